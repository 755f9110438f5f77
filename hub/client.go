package hub

import (
	"context"
	"errors"
	"sync"
)

// Close codes the hub asks a connection to send. They are part of
// the protocol (docs/PROTOCOL.md).
const (
	CloseNormal    = 1000 // The session has ended (signed out): do not reconnect.
	CloseGoingAway = 1001 // The server is shutting down: reconnect and resume.
	CloseTooSlow   = 4000 // The outbound queue overflowed: reconnect and resume.
)

// ErrClosed is returned to a connection's reader once the hub has closed it:
// the connection is over, and Client.CloseCode says why.
var ErrClosed = errors.New("hub: client closed")

// A Conn carries one client's frames to its connection. The hub calls Write
// for the replies to the client's own frames and for its replays, and Wake
// when fanned-out frames wait to be taken, so that a connection needs no
// goroutine of its own to write while it has nothing to write.
type Conn interface {
	// Write writes frame, one event or several separated by newlines, to
	// the connection, and returns once it is written or has failed. It is
	// called by the client's reader goroutine only. Frames that the hub
	// queues after Write returns must reach the connection after frame:
	// that keeps a replay ordered before the live entries that follow it.
	Write(ctx context.Context, frame []byte) error
	// Wake says that frames wait to be taken with Client.Take, or that the
	// hub has closed the client (Client.Done). It may be called from any
	// goroutine, with the hub's locks held, so it must not block.
	Wake()
}

// Client is one connection of one person. Its methods Join, Leave, Send,
// Typing, Reply and Disconnect must be called from a single goroutine, the
// connection's reader; Queued, Take, Done and CloseCode are for whatever
// writes what the hub queues, from any goroutine.
type Client struct {
	h    *Hub
	nick string // as the person's session has it; static after Connect
	key  string // parley.NickKey(nick); static after Connect
	conn Conn   // static after Connect

	// queue holds the frames fanned out to the client, oldest first. The
	// hub appends without ever blocking, and wakes conn when the queue
	// stops being empty; when it would hold more than Options.QueueBytes,
	// the client is closed with CloseTooSlow. A slice that grows only when
	// frames wait costs an idle connection nothing, where a buffered
	// channel would hold its whole capacity.
	qmu    sync.Mutex
	queue  [][]byte // guarded by qmu
	qbytes int      // the bytes of the frames in queue; guarded by qmu

	closeOnce sync.Once
	done      chan struct{}
	code      int // written once before done is closed

	rooms        map[string]*room // owned by the reader goroutine
	disconnected bool             // owned by the reader goroutine
}

// Nick returns the nickname of the client's person.
func (c *Client) Nick() string { return c.nick }

// Take removes and returns every waiting frame, oldest first. buf is a
// slice the caller has finished with, whose storage Take may reuse.
func (c *Client) Take(buf [][]byte) [][]byte {
	if cap(buf) > 64 {
		buf = nil // after a burst, let an idle connection shrink again
	}
	c.qmu.Lock()
	defer c.qmu.Unlock()
	frames := c.queue
	c.queue, c.qbytes = buf[:0], 0
	return frames
}

// Queued returns the number of frames waiting to be taken.
func (c *Client) Queued() int {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	return len(c.queue)
}

// queuedBytes returns the bytes of the frames waiting to be taken.
func (c *Client) queuedBytes() int {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	return c.qbytes
}

// Done is closed when the hub has closed the client; CloseCode then says why.
func (c *Client) Done() <-chan struct{} { return c.done }

// CloseCode returns the WebSocket close code to send once Done is closed.
func (c *Client) CloseCode() int {
	<-c.done
	return c.code
}

// close closes the client with code; only the first call counts.
func (c *Client) close(code int) {
	c.closeOnce.Do(func() {
		c.code = code
		close(c.done)
		c.conn.Wake()
	})
}

// tooSlow closes c because it cannot keep up.
func (c *Client) tooSlow() {
	c.h.slowClosed.Add(1)
	c.close(CloseTooSlow)
}

// enqueue hands a fan-out frame to c without blocking. It reports false,
// having closed c as too slow, when c's queue is full. An empty queue
// takes any frame.
func (c *Client) enqueue(frame []byte) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	c.qmu.Lock()
	n, size := len(c.queue), c.qbytes
	full := n > 0 && size+len(frame) > c.h.opts.QueueBytes
	if !full {
		c.queue = append(c.queue, frame)
		c.qbytes += len(frame)
	}
	c.qmu.Unlock()
	switch {
	case full:
		c.h.logger.Warn("closing slow client", "nick", c.nick, "queued", n, "bytes", size)
		c.tooSlow()
		return false
	case n == 0:
		c.conn.Wake() // later frames find it awake
	}
	return true
}

// Reply writes frame to the connection, ahead of every frame queued after
// it, unless the hub has closed the client or ctx is done.
func (c *Client) Reply(ctx context.Context, frame []byte) error {
	select {
	case <-c.done:
		return ErrClosed
	default:
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return c.conn.Write(ctx, frame)
}
