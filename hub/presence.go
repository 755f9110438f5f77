package hub

// Presence: who is online in a room on this replica, the grace period after
// a person's last connection goes, and the spaced presence events (announce).

import (
	"context"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/protocol"
)

// presence is a person online in a room: connected, or within grace. Its
// room's mu guards it.
type presence struct {
	nick  string
	conns int
	away  *time.Timer // ends the grace period; see Hub.after for where it runs
	// left counts the times the person's last connection has gone. A
	// grace period ends the presence only if it is the latest one: a
	// timer that has fired cannot be stopped, and its task may still wait
	// for Run when the person comes back and goes again.
	left int
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
	if last {
		p.left++
	}
	left := p.left
	if last && grace > 0 {
		p.away = h.after(grace, func(ctx context.Context) { h.goAway(ctx, r, key, p, left) })
	}
	r.mu.Unlock()
	if last && grace <= 0 {
		h.goAway(ctx, r, key, p, left)
	}
}

// goAway takes p offline in r and ends their membership, unless they came
// back meanwhile, or came back and went again since the departure that
// left counts: then a later grace period decides.
func (h *Hub) goAway(ctx context.Context, r *room, key string, p *presence, left int) {
	r.mu.Lock()
	gone := r.online[key] == p && p.conns == 0 && p.left == left
	var done func()
	if gone {
		delete(r.online, key)
		delete(r.typing, key)
		done = h.startLeave(r.name, key)
	}
	r.mu.Unlock()
	if !gone {
		return
	}
	defer done()
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
// (nickname by folded nickname). r.mu is held.
func (r *room) presenceLocked(changed map[string]string) []byte {
	var online, offline []string
	for key, nick := range changed {
		if p := r.online[key]; p != nil {
			online = append(online, p.nick)
		} else {
			offline = append(offline, nick)
		}
	}
	return protocol.Presence(r.name, online, offline)
}

// leaveIfAway ends nick's membership of room unless they are online in it
// on this replica.
func (h *Hub) leaveIfAway(ctx context.Context, room, nick string) {
	key := parley.NickKey(nick)
	// Under way before the look: a join that comes online after it waits.
	defer h.startLeave(room, key)()
	if r := h.localRoom(room); r != nil {
		r.mu.Lock()
		_, here := r.online[key]
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

// A membership is a person's, by folded nickname, in a room.
type membership struct{ room, key string }

// leave is the stored leaves of one membership under way.
type leave struct {
	n    int           // how many
	done chan struct{} // closed when n is back to 0
}

// startLeave records that a leave of key's membership of room is under way,
// until the returned function is called, once the store has answered. A
// person who comes online in the room meanwhile waits for it (waitLeaves)
// before storing their join: else the join would find them a member still,
// store nothing, and the leave would then end a membership that is in use.
//
// Whoever leaves starts the leave before looking whether the person is
// online, and whoever joins marks them online before waiting, so one of the
// two always sees the other.
func (h *Hub) startLeave(room, key string) (done func()) {
	m := membership{room, key}
	h.leavingMu.Lock()
	l := h.leaving[m]
	if l == nil {
		l = &leave{done: make(chan struct{})}
		h.leaving[m] = l
	}
	l.n++
	h.leavingMu.Unlock()
	return func() {
		h.leavingMu.Lock()
		defer h.leavingMu.Unlock()
		if l.n--; l.n == 0 {
			close(l.done)
			delete(h.leaving, m)
		}
	}
}

// waitLeaves waits until no leave of key's membership of room is under way,
// or ctx is done.
func (h *Hub) waitLeaves(ctx context.Context, room, key string) error {
	h.leavingMu.Lock()
	l := h.leaving[membership{room, key}]
	h.leavingMu.Unlock()
	if l == nil {
		return nil
	}
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
