package hub

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/protocol"
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
// Edit, Delete, Typing, Reply and Disconnect are never called concurrently: the
// connection's reader calls them one after another, though not always from
// the same goroutine (package httpapi moves a reader to a fresh goroutine
// after a join). Queued, Take, Done and CloseCode are for whatever writes
// what the hub queues, from any goroutine.
type Client struct {
	h    *Hub
	nick string // as the person's session has it; static after Connect
	key  string // parley.NickKey(nick); static after Connect
	conn Conn   // static after Connect
	// session is the ID of the session the client said hello with, or
	// empty; static after Connect.
	session string
	// admin says that the session's account is an administrator's (see
	// Identity); static after Connect.
	admin bool

	// queue holds the frames fanned out to the client, oldest first. The
	// hub appends without ever blocking, and wakes conn when the queue
	// stops being empty; when it would hold more than Options.QueueBytes,
	// the client is closed with protocol.CloseTooSlow. A slice that grows only when
	// frames wait costs an idle connection nothing, where a buffered
	// channel would hold its whole capacity.
	qmu    sync.Mutex
	queue  [][]byte // guarded by qmu
	qbytes int      // the bytes of the frames in queue; guarded by qmu

	closeOnce sync.Once
	done      chan struct{}
	code      int // written once before done is closed

	rooms        map[string]*room // the reader's: see the methods' rule above
	disconnected bool             // the reader's
	// marked holds, for each room the client is in, the person's read
	// marker as the client last knew it: told at join, or stored by
	// MarkRead. The reader's.
	marked map[string]int64

	// create, when set, is asked before a join creates a room (see
	// LimitRooms); the reader's.
	create func(ctx context.Context, room string) error
	// The replay budget (see Options.ReplayBudget): entries the client
	// may still be replayed, as of budgetAt; the reader's.
	budget   float64
	budgetAt time.Time
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
	c.close(protocol.CloseTooSlow)
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

// Join subscribes c to the room named name, creating the room if needed.
// With since set, the client is sent the entries after *since first. The
// client receives, through its Conn's Write, the joined event, which
// lists who is online in the room on any replica, then the replay; live
// entries follow through Take. A person who comes online in the room is
// announced, unless they are online on another replica already, and
// becomes a member. It returns Invalid for a bad name or since, and
// Conflict when c is in the room already.
func (c *Client) Join(ctx context.Context, name string, since *int64) error {
	h := c.h
	if err := parley.ValidateRoomName(name); err != nil {
		return err
	}
	if _, ok := c.rooms[name]; ok {
		return parley.CodeErrorf(parley.Conflict, protocol.CodeAlreadyJoined, "You are in room %q already.", name)
	}
	if since != nil && *since < 0 {
		return parley.CodeErrorf(parley.Invalid, protocol.CodeBadSince, "since must not be negative.")
	}
	// Read first, so that a failure changes nothing. A mark made
	// meanwhile, from another connection, reaches this one as a read
	// event, for the person's connections are told whatever their rooms.
	readSeq, err := h.store.ReadMarker(ctx, name, c.nick)
	if err != nil {
		return err
	}
	key := c.key
	var r *room
	var s *sub
	var upto int64
	for r == nil {
		var err error
		if r, err = h.acquire(ctx, name); err != nil {
			return err
		}
		// Whether nick may see the room comes first: until then, nothing
		// may tell whether it exists.
		if err := h.mayJoin(ctx, r, c.nick); err != nil {
			h.releaseIfIdle(r)
			return err
		}
		if err := h.admit(ctx, r, since, c.create); err != nil {
			h.releaseIfIdle(r)
			return err
		}
		r.mu.Lock()
		if r.released {
			// The room's last member went away between acquire and now.
			r.mu.Unlock()
			r = nil
			continue
		}
		upto = r.delivered
		// Live entries are held back until the joined event and the replay
		// have been written, even without since, so joined comes first.
		s = &sub{last: upto, replaying: true}
		if since != nil {
			s.last = *since
		}
		r.subs[c] = s
	}
	p := r.online[key]
	cameOnline := p == nil
	if cameOnline {
		p = &presence{nick: c.nick}
		r.online[key] = p
	}
	if p.away != nil {
		p.away.Stop()
		p.away = nil
	}
	p.conns++
	large := len(r.online) > h.opts.LargeRoom
	r.mu.Unlock()
	c.rooms[name] = r

	elsewhere := false
	if cameOnline {
		// A leave of theirs under way here takes them off the roster:
		// they go on it again after.
		if err := h.waitLeaves(ctx, name, key); err != nil {
			h.undoJoin(ctx, r, c, cameOnline)
			return err
		}
		var err error
		if elsewhere, err = h.roster.Add(ctx, name, key, c.nick); err != nil {
			h.logger.Debug("add to the roster; announcing them online", "room", name, "nick", c.nick, "err", err)
		}
		// The membership is stored before anyone is told of the join, so
		// that a join the store refuses changes nothing: the client gets
		// an error, and no joined event, replay or presence. The join
		// entry, published now, is held back for this client with the
		// other live entries and follows its replay.
		if err := h.storeJoin(ctx, name, key, c.nick, large); err != nil {
			h.undoJoin(ctx, r, c, cameOnline)
			return err
		}
	}
	online, count := h.online(ctx, name)

	from := upto
	if since != nil {
		from = *since
	}
	c.marked[name] = readSeq
	joined := protocol.Joined(name, upto, readSeq, online, count)
	if start := c.replayStart(from, upto); start > from {
		// The entries up to start are the client's to read over REST.
		from = start
		r.mu.Lock()
		s.last = max(s.last, start)
		r.mu.Unlock()
		h.partialReplays.Add(1)
		joined = protocol.JoinedPartial(name, upto, readSeq, online, count, start)
	}
	if err := c.Reply(ctx, joined); err != nil {
		return err
	}
	if err := c.replay(ctx, r, s, from, upto); err != nil {
		return err
	}
	if cameOnline && !elsewhere {
		h.announce(ctx, r, key, c.nick)
	}
	return nil
}

// undoJoin takes c back out of r, when its join failed before anyone was
// told of it: no joined event, no presence event, no stored membership.
func (h *Hub) undoJoin(ctx context.Context, r *room, c *Client, cameOnline bool) {
	r.mu.Lock()
	delete(r.subs, c)
	p := r.online[c.key]
	p.conns--
	gone := cameOnline && p.conns == 0
	if gone {
		delete(r.online, c.key)
	}
	r.mu.Unlock()
	delete(c.rooms, r.name)
	delete(c.marked, r.name)
	if gone {
		if _, err := h.roster.Remove(ctx, r.name, c.key); err != nil {
			h.logger.Debug("remove from the roster after a failed join", "room", r.name, "nick", c.nick, "err", err)
		}
	}
	h.releaseIfIdle(r)
}

// Leave unsubscribes c from the room named name. When c was the person's
// last connection there, they leave the room at once. It returns NotFound
// when c is not in the room.
func (c *Client) Leave(ctx context.Context, name string) error {
	r, ok := c.rooms[name]
	if !ok {
		return notJoined(name)
	}
	delete(c.rooms, name)
	delete(c.marked, name)
	c.h.unsubscribe(ctx, r, c, 0)
	return nil
}

func notJoined(name string) error {
	return parley.CodeErrorf(parley.NotFound, protocol.CodeNotJoined, "You have not joined room %q.", name)
}

// postAckMembers is the most members a room may have on this server for a
// sender's ack to be queued with the sender's own copy of the message (one
// write for both) rather than written at once. A queued ack waits for the
// sender's writer, which yields to the other members' writers first: at
// 1,000 members that delayed acks by several milliseconds.
const postAckMembers = 64

// Send stores a message from c in the room named name, which c must have
// joined, and publishes it. It returns the stored entry, which is the
// original one when clientID was sent before. Errors are those of
// parley.Entry.Validate, NotFound when c is not in the room, and the
// store's.
//
// Send acknowledges the stored entry to c with an ack event. In a room with
// at most postAckMembers members here, it queues the ack for c's writer
// just before it publishes the entry, and the writer usually writes it
// together with c's own copy; in a larger room it writes it at once, after
// publishing, so that it does not wait behind the room's fan-out. When c
// has been closed meanwhile (or is closed as too slow because its queue is
// full), the entry is published all the same and Send returns ErrClosed.
func (c *Client) Send(ctx context.Context, name, clientID, text string) (*parley.Entry, error) {
	return c.write(ctx, &parley.Entry{Room: name, Kind: parley.KindMessage, From: c.nick, ClientID: clientID, Text: text})
}

// Edit stores an edit by c's person of their message numbered seq in the
// room named name, which c must have joined, giving it text, and
// publishes it; as Send does, it acknowledges the stored edit, and returns
// it, which is the original one when clientID was used before. Errors are
// NotFound when c is not in the room, and those of parley.Store.Amend:
// no_message, not_yours (someone else's message), already_deleted, and
// the text's.
func (c *Client) Edit(ctx context.Context, name, clientID string, seq int64, text string) (*parley.Entry, error) {
	return c.write(ctx, &parley.Entry{Room: name, Kind: parley.KindEdit, From: c.nick, Target: seq, ClientID: clientID, Text: text})
}

// Delete stores a deletion by c's person of the message numbered seq in
// the room named name, which c must have joined, and publishes it, as
// Edit does. A person may delete their own messages; an administrator
// (Identity.Admin) and a private room's owner anyone's (parley.MayDelete).
func (c *Client) Delete(ctx context.Context, name, clientID string, seq int64) (*parley.Entry, error) {
	return c.write(ctx, &parley.Entry{Room: name, Kind: parley.KindDelete, From: c.nick, Target: seq, ClientID: clientID})
}

// write stores e, a message, an edit or a deletion from c, publishes it,
// and acknowledges it, as Send says.
func (c *Client) write(ctx context.Context, e *parley.Entry) (*parley.Entry, error) {
	r, ok := c.rooms[e.Room]
	if !ok {
		return nil, notJoined(e.Room)
	}
	start := time.Now()
	if err := e.Validate(); err != nil {
		return nil, err
	}
	var err error
	if e.Kind == parley.KindMessage {
		_, err = c.h.store.Append(ctx, e)
	} else {
		// A private room's owner moderates it as an administrator does.
		moderator := c.admin || (r.owner != "" && parley.NickKey(r.owner) == c.key)
		_, err = c.h.store.Amend(ctx, e, moderator)
	}
	if err != nil {
		return nil, err
	}
	ack := protocol.Ack(e)
	if c.h.opts.Acked != nil {
		c.h.opts.Acked(time.Since(start))
	}
	r.mu.Lock()
	queued := len(r.subs) <= postAckMembers
	r.mu.Unlock()
	if queued && !c.enqueue(ack) {
		err = ErrClosed
	}
	// A duplicate is published again too: harmless to rooms that have it,
	// and it repairs a publication lost to a crash between commit and publish.
	c.h.publishEntry(ctx, e)
	if !queued {
		err = c.Reply(ctx, ack)
	}
	if err != nil {
		return nil, err
	}
	return e, nil
}

// Typing tells the other members of the room named name that c's person is
// typing, at most once per TypingInterval; extra notices are dropped.
func (c *Client) Typing(ctx context.Context, name string) error {
	r, ok := c.rooms[name]
	if !ok {
		return notJoined(name)
	}
	key := c.key
	now := time.Now()
	r.mu.Lock()
	relay := now.Sub(r.typing[key]) >= TypingInterval
	if relay {
		if r.typing == nil {
			r.typing = make(map[string]time.Time)
		}
		r.typing[key] = now
	}
	r.mu.Unlock()
	if relay {
		c.h.publish(ctx, name, seqTyping, protocol.Typing(name, c.nick))
	}
	return nil
}
