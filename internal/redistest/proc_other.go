//go:build !linux

package redistest

import "syscall"

// sysProcAttr asks for nothing special where the parent's death cannot
// kill the server; Start's cleanup stops it.
func sysProcAttr() *syscall.SysProcAttr { return nil }
