package loadgen

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// bindNoPort is a net.Dialer Control function for dialers with a local
// address: it lets the kernel choose the source port at connect, for the
// four-tuple, instead of at bind, where it must pick a port that no other
// socket of that address uses, with a search that grows as ports fill up.
func bindNoPort(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
	})
	if err != nil {
		return err
	}
	return serr
}
