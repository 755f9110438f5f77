package hub

import (
	"context"
	"errors"
	"sync"
)

// Close codes the hub asks a connection's writer to send. They are part of
// the protocol (docs/PROTOCOL.md).
const (
	CloseGoingAway = 1001 // The server is shutting down: reconnect and resume.
	CloseTooSlow   = 4000 // The outbound queue overflowed: reconnect and resume.
)

// errClosed is returned to a connection's reader once the hub has closed it.
var errClosed = errors.New("hub: client closed")

// Client is one connection of one person. Its methods Join, Leave, Send,
// Typing, Reply and Disconnect must be called from a single goroutine, the
// connection's reader; Queued, Take, Direct, Done and CloseCode are for its
// writer.
type Client struct {
	h       *Hub
	person  *person // static after Connect
	session string  // static after Connect

	// queue holds the frames fanned out to the client, oldest first. The
	// hub appends without ever blocking; when it is full, the client is
	// closed with CloseTooSlow. A slice that grows only when frames wait
	// costs an idle connection nothing, where a buffered channel would
	// hold its whole capacity.
	qmu    sync.Mutex
	queue  [][]byte      // guarded by qmu
	queued chan struct{} // capacity 1: the queue is not empty
	// direct carries the replies to this connection's own frames and its
	// replays. It is unbuffered, so a send returns only once the writer has
	// taken the frame: that keeps a replay ordered before the live frames
	// that follow it, and pushes back on a client that does not read.
	direct chan []byte

	closeOnce sync.Once
	done      chan struct{}
	code      int // written once before done is closed

	rooms        map[string]*room // owned by the reader goroutine
	disconnected bool             // owned by the reader goroutine
}

// Nick returns the nickname the client said hello with.
func (c *Client) Nick() string { return c.person.nick }

// Session returns the token that lets the same person reconnect, or open
// another connection, with the same nickname.
func (c *Client) Session() string { return c.session }

// Queued receives when frames fanned out to this client are waiting; Take
// returns them.
func (c *Client) Queued() <-chan struct{} { return c.queued }

// Take removes and returns every waiting frame, oldest first. buf is a
// slice the caller has finished with, whose storage Take may reuse.
func (c *Client) Take(buf [][]byte) [][]byte {
	if cap(buf) > 64 {
		buf = nil // after a burst, let an idle connection shrink again
	}
	c.qmu.Lock()
	defer c.qmu.Unlock()
	frames := c.queue
	c.queue = buf[:0]
	return frames
}

// waiting returns the number of frames in c's queue.
func (c *Client) waiting() int {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	return len(c.queue)
}

// Direct returns the channel of replies and replays for this client. The
// writer must write a frame taken from Direct before any frame it takes
// with Take afterwards.
func (c *Client) Direct() <-chan []byte { return c.direct }

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
	})
}

// tooSlow closes c because it cannot keep up.
func (c *Client) tooSlow() {
	c.h.slowClosed.Add(1)
	c.close(CloseTooSlow)
}

// enqueue hands a fan-out frame to c without blocking. It reports false,
// having closed c as too slow, when c's queue is full.
func (c *Client) enqueue(frame []byte) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	c.qmu.Lock()
	n := len(c.queue)
	if n < c.h.opts.QueueSize {
		c.queue = append(c.queue, frame)
	}
	c.qmu.Unlock()
	switch {
	case n >= c.h.opts.QueueSize:
		c.h.logger.Warn("closing slow client", "nick", c.person.nick, "queued", n)
		c.tooSlow()
		return false
	case n == 0:
		select {
		case c.queued <- struct{}{}:
		default: // the writer has been told already
		}
	}
	return true
}

// Reply hands frame to the connection's writer, waiting until it takes it.
func (c *Client) Reply(ctx context.Context, frame []byte) error {
	select {
	case c.direct <- frame:
		return nil
	case <-c.done:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}
