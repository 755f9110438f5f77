//go:build !linux

package pgtest

import "syscall"

// stopWithParent does nothing here: only Linux can tie a process's life to
// its parent's.
func stopWithParent(*syscall.SysProcAttr) {}
