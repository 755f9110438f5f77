package loadgen

import (
	"cmp"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// A poller reads the connections it watches as they become readable: one
// goroutine waits in epoll_wait for all of them (level-triggered), and for
// each that is ready makes one read of whatever the socket holds and hands
// on the whole messages in it. A goroutine per connection would read each
// message and then read again to find the socket empty before waiting, two
// system calls and two goroutine switches a message.
type poller struct {
	epfd int

	mu    sync.Mutex
	conns map[int32]*wsconn // by file descriptor
}

// pollers are the process's pollers, one a processor, started when the
// first connection is watched; they run for the life of the process.
var pollers = sync.OnceValues(func() ([]*poller, error) {
	ps := make([]*poller, runtime.GOMAXPROCS(0))
	for i := range ps {
		fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			return nil, fmt.Errorf("epoll_create1: %w", err)
		}
		ps[i] = &poller{epfd: fd, conns: make(map[int32]*wsconn)}
		go ps[i].run()
	}
	return ps, nil
})

// watch hands c's messages from now on to deliver and its pings' payloads
// to ping, both called with c.mu held, until c ends; c.done then says why.
// Messages that arrived with the handshake's are handed on first.
func watch(c *wsconn, deliver, ping func([]byte)) error {
	ps, err := pollers()
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if open, err := c.begin(deliver, ping); !open {
		return err
	}
	sc, ok := c.nc.(syscall.Conn) // not over TLS
	if !ok {
		go c.readLoop()
		return nil
	}
	// Take the socket from the runtime's poller, which would otherwise be
	// woken for every message too.
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var fd int
	cerr := rc.Control(func(s uintptr) { fd, err = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) })
	if err = cmp.Or(cerr, err); err != nil {
		return fmt.Errorf("dup: %w", err)
	}
	c.nc.Close()
	c.fd, c.raw = fd, true
	p := ps[fd%len(ps)]
	p.mu.Lock()
	p.conns[int32(fd)] = c
	p.mu.Unlock()
	c.p = p
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(fd)}
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		c.finishLocked(err)
		return fmt.Errorf("epoll_ctl: %w", err)
	}
	return nil
}

// writeFD writes b to the socket fd, waiting while it is full until
// deadline.
func writeFD(fd int, b []byte, deadline time.Time) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		b = b[max(n, 0):]
		switch err {
		case nil, unix.EINTR:
		case unix.EAGAIN:
			wait := time.Until(deadline)
			if wait <= 0 {
				return os.ErrDeadlineExceeded
			}
			// Rare: the server reads what its clients send at once.
			unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}, int(wait.Milliseconds())+1)
		default:
			return &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", err)}
		}
	}
	return nil
}

// unwatch takes c out of its poller and closes its socket, once a write
// under way has seen it shut down. c.mu is held.
func unwatch(c *wsconn) {
	if c.p != nil {
		unix.EpollCtl(c.p.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
		c.p.forget(c)
		c.p = nil
	}
	unix.Shutdown(c.fd, unix.SHUT_RDWR)
	c.fdmu.Lock()
	unix.Close(c.fd)
	c.fd = -1
	c.fdmu.Unlock()
}

func (p *poller) forget(c *wsconn) {
	p.mu.Lock()
	if p.conns[int32(c.fd)] == c {
		delete(p.conns, int32(c.fd))
	}
	p.mu.Unlock()
}

func (p *poller) run() {
	events := make([]unix.EpollEvent, 256)
	for {
		n, err := unix.EpollWait(p.epfd, events, -1)
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			panic(fmt.Sprintf("loadgen: epoll_wait: %v", err))
		}
		for _, ev := range events[:n] {
			p.mu.Lock()
			c := p.conns[ev.Fd]
			p.mu.Unlock()
			if c != nil {
				c.readReady()
			}
		}
	}
}

// readReady reads what c's socket holds, once.
func (c *wsconn) readReady() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return // its descriptor may be another connection's by now
	}
	c.grow()
	n, err := unix.Read(c.fd, c.in[len(c.in):cap(c.in)])
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		c.release()
	case err != nil:
		c.received(&net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", err)})
	case n == 0:
		c.received(io.EOF)
	default:
		c.in = c.in[:len(c.in)+n]
		c.received(nil)
	}
}
