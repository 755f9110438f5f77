package pgtest

import "syscall"

// stopWithParent makes the kernel stop the server (an immediate shutdown,
// SIGQUIT) when the test binary dies without calling Stop, as when go test
// kills it at its timeout, so that no server outlives its tests.
func stopWithParent(a *syscall.SysProcAttr) {
	a.Pdeathsig = syscall.SIGQUIT
}
