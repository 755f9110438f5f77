//go:build unix

package httpapi

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// await returns once the client has sent bytes that the reader has not
// read, or the connection has failed or passed its read deadline, leaving
// the reading, and its errors, to the WebSocket library.
//
// It waits in the Go poller itself, few calls deep: the library's read
// path, blocked, needs a stack twice the size.
func (s *socket) await() {
	if s.nc == nil || s.br.Buffered() > 0 {
		return
	}
	sc, ok := s.nc.(syscall.Conn)
	if !ok {
		return
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return
	}
	raw.Read(func(fd uintptr) bool {
		// The poller announces bytes that arrive while it waits, not
		// those that wait already.
		var b [1]byte
		_, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		return err != unix.EAGAIN
	})
}
