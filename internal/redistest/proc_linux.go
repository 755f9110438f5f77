package redistest

import "syscall"

// sysProcAttr has the server killed when the test process dies, so that
// none outlives an interrupted test.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
