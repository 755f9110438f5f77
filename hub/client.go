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
// connection's reader; Live, Direct, Done and CloseCode are for its writer.
type Client struct {
	h       *Hub
	person  *person // static after Connect
	session string  // static after Connect

	// live receives frames from the hub's fan-out without ever blocking it;
	// when it is full, the client is closed with CloseTooSlow.
	live chan []byte
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

// Live returns the channel of frames fanned out to this client.
func (c *Client) Live() <-chan []byte { return c.live }

// Direct returns the channel of replies and replays for this client. The
// writer must write a frame taken from Direct before any frame it takes
// from Live afterwards.
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
	case c.live <- frame:
		return true
	case <-c.done:
		return false
	default:
		c.h.logger.Warn("closing slow client", "nick", c.person.nick, "queued", len(c.live))
		c.tooSlow()
		return false
	}
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
