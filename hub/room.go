package hub

import (
	"context"
	"encoding/json"
	"iter"
	"sort"
	"sync"
	"time"

	"github.com/parley-chat/parley"
)

// room is a room with members on this replica.
type room struct {
	name        string
	ready       chan struct{} // closed once delivered is known
	unsubscribe func()        // from the broker; static after acquire

	mu        sync.Mutex
	delivered int64                // newest seq handed to subscribers; guarded by mu
	pending   map[int64][]byte     // publications ahead of delivered, nil until there are any; guarded by mu
	gapFill   bool                 // a gap fill is scheduled; guarded by mu
	subs      map[*Client]*sub     // guarded by mu
	online    map[string]*presence // by folded nickname; guarded by mu
	// Presence changes go out at most once every PresenceInterval (see
	// announce): the first at once, the others when the interval ends.
	announcing  bool                 // an interval runs; guarded by mu
	unannounced map[string]string    // nickname by folded nickname, of changes waiting for the interval's end; nil until there are any; guarded by mu
	typing      map[string]time.Time // last typing relayed, by folded nickname, nil until then; guarded by mu
	released    bool                 // removed from the hub; guarded by mu
	missing     bool                 // the store has no such room yet; guarded by mu
	err         error                // why the room could not start; written before ready is closed
}

// sub is one client's subscription to a room.
type sub struct {
	last      int64     // newest seq sent to the client
	replaying bool      // live frames go to backlog until the replay ends
	backlog   []pending // held back while replaying
}

type pending struct {
	seq   int64 // 0 for ephemeral events
	frame []byte
}

// presence is a person online in a room: connected, or within grace.
type presence struct {
	nick  string
	conns int
	away  *time.Timer // ends the grace period
}

// acquire returns the room named name, creating its local state, with a
// broker subscription, when it has none. It waits until the room knows the
// newest sequence number that local subscribers have been given, which is
// 0, with missing set, for a room the store does not have yet.
func (h *Hub) acquire(ctx context.Context, name string) (*room, error) {
	h.mu.Lock()
	r := h.rooms[name]
	created := r == nil
	if created {
		r = &room{
			name:      name,
			ready:     make(chan struct{}),
			delivered: -1,
			subs:      make(map[*Client]*sub),
			online:    make(map[string]*presence),
		}
		h.rooms[name] = r
	}
	h.mu.Unlock()

	if created {
		// Subscribe before reading the newest number: an entry committed
		// after the read is published after it, so it reaches this room.
		r.unsubscribe = h.broker.Subscribe(name, func(msg []byte) { h.receive(r, msg) })
		info, err := h.store.Room(ctx, name)
		if parley.KindOf(err) == parley.NotFound {
			// Whoever joins creates it; what another replica appends
			// meanwhile is published after the subscription above.
			info, err = &parley.Room{Name: name}, nil
			r.missing = true
		}
		r.mu.Lock()
		if err != nil {
			r.err = err
			r.released = true
		} else {
			r.delivered = info.LastSeq
			for seq := range r.pending {
				if seq <= r.delivered {
					delete(r.pending, seq)
				}
			}
			h.drainLocked(r)
		}
		r.mu.Unlock()
		close(r.ready)
		if err != nil {
			h.mu.Lock()
			if h.rooms[name] == r {
				delete(h.rooms, name)
			}
			h.mu.Unlock()
			r.unsubscribe()
		}
	}
	select {
	case <-r.ready:
		return r, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// releaseIfIdle drops r's local state when nobody is subscribed or online.
func (h *Hub) releaseIfIdle(r *room) {
	h.mu.Lock()
	r.mu.Lock()
	idle := len(r.subs) == 0 && len(r.online) == 0 && !r.announcing && !r.released
	if idle {
		r.released = true
		if h.rooms[r.name] == r {
			delete(h.rooms, r.name)
		}
	}
	r.mu.Unlock()
	h.mu.Unlock()
	if idle {
		<-r.ready
		r.unsubscribe()
	}
}

// receive handles one publication to r from the broker.
func (h *Hub) receive(r *room, msg []byte) {
	seq, frame, ok := unpack(msg)
	if !ok {
		h.logger.Warn("dropping malformed publication", "room", r.name)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch seq {
	case seqEvent:
		h.broadcastLocked(r, pending{frame: frame})
		return
	case seqTyping:
		h.typingLocked(r, frame)
		return
	}
	if r.delivered < 0 || seq > r.delivered+1 {
		if r.pending == nil {
			r.pending = make(map[int64][]byte)
		}
		r.pending[seq] = frame
		if r.delivered >= 0 {
			h.scheduleGapFillLocked(r)
		}
		return
	}
	if seq <= r.delivered {
		return // already delivered, from the store or an earlier publication
	}
	r.delivered = seq
	h.broadcastLocked(r, pending{seq: seq, frame: frame})
	h.drainLocked(r)
}

// drainLocked delivers the held publications that now follow on.
func (h *Hub) drainLocked(r *room) {
	for {
		frame, ok := r.pending[r.delivered+1]
		if !ok {
			break
		}
		delete(r.pending, r.delivered+1)
		r.delivered++
		h.broadcastLocked(r, pending{seq: r.delivered, frame: frame})
	}
	if len(r.pending) > 0 {
		h.scheduleGapFillLocked(r)
	}
}

// scheduleGapFillLocked arranges for the entries missing before r's held
// publications to be read from the store, unless they arrive first.
func (h *Hub) scheduleGapFillLocked(r *room) {
	if r.gapFill {
		return
	}
	r.gapFill = true
	h.after(h.opts.GapWait, func(ctx context.Context) { h.fillGap(ctx, r) })
}

// fillGap reads from the store the entries r has not delivered but holds
// later ones of, and delivers them in order.
func (h *Hub) fillGap(ctx context.Context, r *room) {
	r.mu.Lock()
	r.gapFill = false
	from, upto := r.delivered, int64(0)
	for seq := range r.pending {
		upto = max(upto, seq)
	}
	r.mu.Unlock()
	if upto == 0 || from < 0 {
		return
	}
	for entries, err := range h.entryPages(ctx, r.name, from, upto-1) {
		if err != nil {
			h.logger.Error("fill gap", "room", r.name, "after", from, "err", err)
			r.mu.Lock()
			h.scheduleGapFillLocked(r)
			r.mu.Unlock()
			return
		}
		for _, e := range entries {
			h.receive(r, pack(e.Seq, EncodeEntry(e)))
		}
	}
	h.logger.Debug("filled gap", "room", r.name, "upto", upto)
}

// broadcastLocked hands one entry or event to every subscriber of r.
func (h *Hub) broadcastLocked(r *room, p pending) {
	var n uint64
	for c, s := range r.subs {
		if h.deliverLocked(c, s, p) {
			n++
		}
	}
	h.deliveries.Add(n)
}

// deliverLocked hands one entry or event to one subscriber: held back while
// its replay runs, dropped if it has it already, queued otherwise. It
// reports whether the frame was queued.
func (h *Hub) deliverLocked(c *Client, s *sub, p pending) bool {
	if p.seq > 0 && p.seq <= s.last {
		return false
	}
	if s.replaying {
		if len(s.backlog) >= maxBacklog {
			c.tooSlow()
			return false
		}
		s.backlog = append(s.backlog, p)
		return false
	}
	if p.seq > 0 {
		s.last = p.seq
	}
	return c.enqueue(p.frame)
}

// typingLocked relays a typing notice to everyone in r but the typist,
// unless the receiver's queue is half full: typing is the first thing
// dropped under load.
func (h *Hub) typingLocked(r *room, frame []byte) {
	var t typingEvent
	if json.Unmarshal(frame, &t) != nil {
		return
	}
	typist := parley.NickKey(t.From)
	for c, s := range r.subs {
		if s.replaying || c.key == typist || c.queuedBytes() > h.opts.QueueBytes/2 {
			continue
		}
		c.enqueue(frame)
	}
}

// Join subscribes c to the room named name, creating the room if needed.
// With since set, the client is sent the entries after *since first. The
// client receives, through its Conn's Write, the joined event, then the
// replay; live entries follow through Take. It returns Invalid for a bad
// name or since, and Conflict when c is in the room already.
func (c *Client) Join(ctx context.Context, name string, since *int64) error {
	h := c.h
	if err := parley.ValidateRoomName(name); err != nil {
		return err
	}
	if _, ok := c.rooms[name]; ok {
		return parley.CodeErrorf(parley.Conflict, "already_joined", "You are in room %q already.", name)
	}
	if since != nil && *since < 0 {
		return parley.CodeErrorf(parley.Invalid, "bad_since", "since must not be negative.")
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
		if err := h.admit(ctx, r, since); err != nil {
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
	online := make([]string, 0, len(r.online))
	for _, p := range r.online {
		online = append(online, p.nick)
	}
	r.mu.Unlock()
	c.rooms[name] = r
	sort.Strings(online)

	from := upto
	if since != nil {
		from = *since
	}
	if err := c.Reply(ctx, mustEncode(joinedEvent{Type: "joined", Room: name, LastSeq: upto, Online: online})); err != nil {
		return err
	}
	if err := c.replay(ctx, r, s, from, upto); err != nil {
		return err
	}
	if cameOnline {
		h.announce(ctx, r, key, c.nick)
		e, err := h.store.Join(ctx, name, c.nick)
		if err != nil {
			return err
		}
		if e != nil {
			h.publishEntry(ctx, e)
		}
	}
	return nil
}

// localRoom returns the local state of the room named name, or nil.
func (h *Hub) localRoom(name string) *room {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.rooms[name]
}

// admit checks a join's since against the log of r, which acquire has
// made ready, and creates the room in the store when it has none yet. A
// since no greater than what r's members here were given needs no read:
// those entries are committed. Beyond that, an entry may be committed and
// not yet delivered here, so the store decides. A refused join changes
// nothing.
func (h *Hub) admit(ctx context.Context, r *room, since *int64) error {
	r.mu.Lock()
	delivered, missing := r.delivered, r.missing
	r.mu.Unlock()
	switch {
	case since != nil && *since > delivered:
		// A since of 1 or more that the store's log reaches: the room
		// exists.
		if err := h.checkSince(ctx, r.name, *since); err != nil {
			return err
		}
	case missing:
		if _, err := h.store.EnsureRoom(ctx, r.name); err != nil {
			return err
		}
	default:
		return nil
	}
	r.mu.Lock()
	r.missing = false
	r.mu.Unlock()
	return nil
}

// checkSince refuses since when it is beyond the newest entry of the room
// named name in the store (0 for a room the store does not have).
func (h *Hub) checkSince(ctx context.Context, name string, since int64) error {
	last := int64(0)
	info, err := h.store.Room(ctx, name)
	switch {
	case err == nil:
		last = info.LastSeq
	case parley.KindOf(err) != parley.NotFound:
		return err
	}
	if since > last {
		return parley.CodeErrorf(parley.Invalid, "bad_since", "since is %d, but the newest entry of room %q is %d.", since, name, last)
	}
	return nil
}

// replay sends c the entries of r after since up to upto from the store,
// then what arrived live meanwhile, and switches the subscription to live.
func (c *Client) replay(ctx context.Context, r *room, s *sub, since, upto int64) error {
	for entries, err := range c.h.entryPages(ctx, r.name, since, upto) {
		if err != nil {
			return err
		}
		if err := c.Reply(ctx, encodeEntries(entries)); err != nil {
			return err
		}
	}
	for {
		r.mu.Lock()
		backlog := s.backlog
		s.backlog = nil
		if len(backlog) == 0 {
			s.last = max(s.last, upto)
			s.replaying = false
			r.mu.Unlock()
			return nil
		}
		r.mu.Unlock()
		for _, p := range backlog {
			if err := c.Reply(ctx, p.frame); err != nil {
				return err
			}
			if p.seq > 0 {
				r.mu.Lock()
				s.last = p.seq
				r.mu.Unlock()
			}
		}
	}
}

// entryPages yields the entries of room after after and up to upto from
// the store, oldest first, a page at a time, until an error, which it
// yields last. Once a first page comes back full, a goroutine of its own
// reads each next page while the caller handles the one before, unless
// maxReadAhead replays do so already: a long replay then reads the store
// and writes to its connection at once, on two cores, rather than in turn.
// It has stopped when the loop over it ends.
func (h *Hub) entryPages(ctx context.Context, room string, after, upto int64) iter.Seq2[[]*parley.Entry, error] {
	read := func(ctx context.Context, after int64) ([]*parley.Entry, error) {
		return h.store.Entries(ctx, room, parley.Page{After: after, Before: upto + 1, Limit: replayPage, Oldest: true})
	}
	// more reports whether entries, a page read after some number, may be
	// followed by others up to upto.
	more := func(entries []*parley.Entry) bool {
		return len(entries) == replayPage && entries[len(entries)-1].Seq < upto
	}
	// readFrom reads the pages after after in order and hands each to emit,
	// until emit returns false, a read fails, or the page was the last.
	readFrom := func(ctx context.Context, after int64, emit func([]*parley.Entry, error) bool) {
		for {
			entries, err := read(ctx, after)
			if err == nil && len(entries) == 0 {
				return
			}
			if !emit(entries, err) || err != nil || !more(entries) {
				return
			}
			after = entries[len(entries)-1].Seq
		}
	}
	return func(yield func([]*parley.Entry, error) bool) {
		if after >= upto {
			return
		}
		entries, err := read(ctx, after)
		switch {
		case err != nil:
			yield(nil, err)
			return
		case len(entries) == 0:
			return
		case !more(entries):
			yield(entries, nil)
			return
		}
		last := entries[len(entries)-1].Seq
		select {
		case h.readAhead <- struct{}{}:
			defer func() { <-h.readAhead }()
		default:
			if yield(entries, nil) {
				readFrom(ctx, last, yield)
			}
			return
		}

		type page struct {
			entries []*parley.Entry
			err     error
		}
		ctx, cancel := context.WithCancel(ctx)
		next := make(chan page, 1)
		go func() {
			defer close(next)
			readFrom(ctx, last, func(entries []*parley.Entry, err error) bool {
				select {
				case next <- page{entries, err}:
					return true
				case <-ctx.Done():
					return false
				}
			})
		}()
		defer func() {
			cancel()
			for range next { // until the reader has returned
			}
		}()

		if !yield(entries, nil) {
			return
		}
		for p := range next {
			if !yield(p.entries, p.err) || p.err != nil {
				return
			}
		}
	}
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
	c.h.unsubscribe(ctx, r, c, 0)
	return nil
}

func notJoined(name string) error {
	return parley.CodeErrorf(parley.NotFound, "not_joined", "You have not joined room %q.", name)
}

// unsubscribe removes c from r. When c was the person's last connection in
// r, they go offline and leave the room after grace (at once when zero).
func (h *Hub) unsubscribe(ctx context.Context, r *room, c *Client, grace time.Duration) {
	key := c.key
	r.mu.Lock()
	delete(r.subs, c)
	p := r.online[key]
	p.conns--
	last := p.conns == 0
	if last && grace > 0 {
		p.away = h.after(grace, func(ctx context.Context) { h.goAway(ctx, r, key, p) })
	}
	r.mu.Unlock()
	if last && grace <= 0 {
		h.goAway(ctx, r, key, p)
	}
}

// goAway takes p offline in r and ends their membership, unless they came
// back meanwhile.
func (h *Hub) goAway(ctx context.Context, r *room, key string, p *presence) {
	r.mu.Lock()
	gone := r.online[key] == p && p.conns == 0
	if gone {
		delete(r.online, key)
		delete(r.typing, key)
	}
	r.mu.Unlock()
	if !gone {
		return
	}
	h.announce(ctx, r, key, p.nick)
	if e, err := h.store.Leave(ctx, r.name, p.nick); err != nil {
		h.logger.Error("leave room", "room", r.name, "nick", p.nick, "err", err)
	} else if e != nil {
		h.publishEntry(ctx, e)
	}
	h.releaseIfIdle(r)
}

// announce tells r's members that the presence of nick (folded: key)
// changed: at once, unless the room's last announcement went out less than
// PresenceInterval ago; then, with every other change of the interval, in
// one event when it ends. An event says what each presence is when it goes
// out, so a change undone within the interval is announced as no change.
func (h *Hub) announce(ctx context.Context, r *room, key, nick string) {
	r.mu.Lock()
	if r.unannounced == nil {
		r.unannounced = make(map[string]string)
	}
	r.unannounced[key] = nick
	interval := r.announcing
	r.announcing = true
	r.mu.Unlock()
	if !interval {
		h.announceWaiting(ctx, r)
	}
}

// announceWaiting announces the presence changes waiting in r and starts
// an interval, at whose end it runs again; with none waiting, the interval
// is over, and r goes when it is idle.
func (h *Hub) announceWaiting(ctx context.Context, r *room) {
	r.mu.Lock()
	changed := r.unannounced
	r.unannounced = nil
	r.announcing = len(changed) > 0
	var frame []byte
	if r.announcing {
		frame = r.presenceLocked(changed)
	}
	r.mu.Unlock()
	if frame == nil {
		h.releaseIfIdle(r)
		return
	}
	h.publish(ctx, r.name, seqEvent, frame)
	h.after(h.opts.PresenceInterval, func(ctx context.Context) { h.announceWaiting(ctx, r) })
}

// presenceLocked encodes the presence now of the people in changed
// (nickname by folded nickname): an online or offline event for one, a
// presence event for several. r.mu is held.
func (r *room) presenceLocked(changed map[string]string) []byte {
	online, offline := []string{}, []string{}
	for key, nick := range changed {
		if p := r.online[key]; p != nil {
			online = append(online, p.nick)
		} else {
			offline = append(offline, nick)
		}
	}
	switch {
	case len(online) == 1 && len(offline) == 0:
		return mustEncode(presenceEvent{Type: "online", Room: r.name, Nick: online[0]})
	case len(online) == 0 && len(offline) == 1:
		return mustEncode(presenceEvent{Type: "offline", Room: r.name, Nick: offline[0]})
	}
	sort.Strings(online)
	sort.Strings(offline)
	return mustEncode(presenceChanges{Type: "presence", Room: r.name, Online: online, Offline: offline})
}

// leaveIfAway ends nick's membership of room unless they are online in it
// on this replica.
func (h *Hub) leaveIfAway(ctx context.Context, room, nick string) {
	if r := h.localRoom(room); r != nil {
		r.mu.Lock()
		_, here := r.online[parley.NickKey(nick)]
		r.mu.Unlock()
		if here {
			return
		}
	}
	if e, err := h.store.Leave(ctx, room, nick); err != nil {
		h.logger.Error("leave room after restart", "room", room, "nick", nick, "err", err)
	} else if e != nil {
		h.publishEntry(ctx, e)
	}
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
// ack, if not nil, makes the frame that acknowledges the stored entry. In a
// room with at most postAckMembers members here, Send queues it for c's
// writer just before it publishes the entry, and the writer usually writes
// it together with c's own copy; in a larger room it writes it at once,
// after publishing, so that it does not wait behind the room's fan-out.
// When c has been closed meanwhile (or is closed as too slow because its
// queue is full), the entry is published all the same and Send returns
// ErrClosed.
func (c *Client) Send(ctx context.Context, name, clientID, text string, ack func(*parley.Entry) []byte) (*parley.Entry, error) {
	r, ok := c.rooms[name]
	if !ok {
		return nil, notJoined(name)
	}
	e := &parley.Entry{Room: name, Kind: parley.KindMessage, From: c.nick, ClientID: clientID, Text: text}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	if _, err := c.h.store.Append(ctx, e); err != nil {
		return nil, err
	}
	var frame []byte
	var err error
	queued := false
	if ack != nil {
		frame = ack(e)
		r.mu.Lock()
		queued = len(r.subs) <= postAckMembers
		r.mu.Unlock()
		if queued && !c.enqueue(frame) {
			err = ErrClosed
		}
	}
	// A duplicate is published again too: harmless to rooms that have it,
	// and it repairs a publication lost to a crash between commit and publish.
	c.h.publishEntry(ctx, e)
	if frame != nil && !queued {
		err = c.Reply(ctx, frame)
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
		c.h.publish(ctx, name, seqTyping, mustEncode(typingEvent{Type: "typing", Room: name, From: c.nick}))
	}
	return nil
}
