package hub

// Presence: who is online in a room on this replica, the grace period after
// a person's last connection goes, the spaced presence events (announce),
// and the roster of who is online on every replica (see Roster): a person
// goes offline, and leaves the room, only when their last connection on
// the last replica that has them goes.

import (
	"context"
	"slices"
	"sort"
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
// left counts: then a later grace period decides. When they are online on
// another replica, the roster keeps them online there, and nothing is
// announced or stored.
func (h *Hub) goAway(ctx context.Context, r *room, key string, p *presence, left int) {
	r.mu.Lock()
	gone := r.online[key] == p && p.conns == 0 && p.left == left
	var done func()
	large := len(r.online) > h.opts.LargeRoom // counting p, as their join did
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
	elsewhere, err := h.roster.Remove(ctx, r.name, key)
	if err != nil {
		h.logger.Debug("remove from the roster; taking them offline", "room", r.name, "nick", p.nick, "err", err)
	}
	if !elsewhere {
		h.announce(ctx, r, key, p.nick)
		h.storeLeave(ctx, r.name, p.nick, large)
	}
	h.releaseIfIdle(r)
}

// storeLeave ends nick's membership of room and publishes the leave entry;
// in a large room (see Options.LargeRoom) it stores none.
func (h *Hub) storeLeave(ctx context.Context, room, nick string, large bool) {
	var e *parley.Entry
	var err error
	if large {
		_, err = h.store.RemoveMember(ctx, room, nick)
	} else {
		e, err = h.store.Leave(ctx, room, nick)
	}
	switch {
	case parley.KindOf(err) == parley.NotFound:
		// The room was deleted, and its memberships with it.
		h.logger.Debug("leave a deleted room", "room", room, "nick", nick)
	case err != nil:
		h.logger.Error("leave room", "room", room, "nick", nick, "err", err)
	case e != nil:
		h.publishEntry(ctx, e)
	}
}

// storeJoin makes nick a member of room, unless a leave of theirs is
// under way (see startLeave): then it waits for it first. It publishes
// the join entry, if any; in a large room (see Options.LargeRoom) it
// stores none.
func (h *Hub) storeJoin(ctx context.Context, room, key, nick string, large bool) error {
	if err := h.waitLeaves(ctx, room, key); err != nil {
		return err
	}
	if large {
		_, err := h.store.AddMember(ctx, room, nick)
		return err
	}
	e, err := h.store.Join(ctx, room, nick)
	if err != nil {
		return err
	}
	if e != nil {
		h.publishEntry(ctx, e)
	}
	return nil
}

// rosterChanged handles what the roster says of people of r who changed
// replica without a word (see Roster.Watch): those gone went offline, as
// at the end of a grace period, unless they are online here; those back
// are online again, if they still are here.
func (h *Hub) rosterChanged(ctx context.Context, r *room, gone, back []string) {
	for _, nick := range gone {
		key := parley.NickKey(nick)
		// Under way before the look: a join that comes online after it waits.
		done := h.startLeave(r.name, key)
		if !h.onlineHere(r.name, key) {
			h.logger.Info("offline: their replica stopped", "room", r.name, "nick", nick)
			h.announce(ctx, r, key, nick)
			h.storeLeave(ctx, r.name, nick, h.large(r))
		}
		done()
	}
	for _, nick := range back {
		key := parley.NickKey(nick)
		if err := h.waitLeaves(ctx, r.name, key); err != nil {
			return
		}
		if !h.onlineHere(r.name, key) {
			continue // gone since: their leave is stored, or their grace decides
		}
		h.logger.Info("online again: back on the roster", "room", r.name, "nick", nick)
		h.announce(ctx, r, key, nick)
		if err := h.storeJoin(ctx, r.name, key, nick, h.large(r)); err != nil {
			h.logger.Error("join room again", "room", r.name, "nick", nick, "err", err)
		}
	}
	h.releaseIfIdle(r)
}

// onlineHere reports whether key is online in room on this replica:
// connected, or within grace.
func (h *Hub) onlineHere(room, key string) bool {
	r := h.localRoom(room)
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, here := r.online[key]
	return here
}

// announce tells r's members that the presence of nick (folded: key)
// changed: at once, unless the room's last announcement went out less than
// PresenceInterval ago; then, with every other change of the interval, in
// one event when it ends. An event says what each presence is when it goes
// out, on any replica, so a change undone within the interval, here or
// elsewhere, is announced as no change.
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
	large := len(r.online) > h.opts.LargeRoom
	var away []string // not online here
	for key := range changed {
		if r.online[key] == nil && !large {
			away = append(away, key)
		}
	}
	r.mu.Unlock()
	if len(changed) == 0 {
		h.releaseIfIdle(r)
		return
	}
	r.mu.Lock()
	wasLarge := r.wasLarge
	r.wasLarge = large
	r.mu.Unlock()
	var frame []byte
	switch {
	case large:
		// Names would make each change cost a delivery to every member.
		_, count := h.online(ctx, r.name)
		frame = protocol.PresenceCount(r.name, count)
	case wasLarge:
		// Small again: members know a count, not who; tell them everyone.
		online, _ := h.online(ctx, r.name)
		var offline []string
		for key, nick := range changed {
			if !slices.ContainsFunc(online, func(n string) bool { return parley.NickKey(n) == key }) {
				offline = append(offline, nick)
			}
		}
		frame = protocol.PresenceAll(r.name, online, offline)
	default:
		elsewhere := h.onlineElsewhere(ctx, r.name, away)
		r.mu.Lock()
		frame = r.presenceLocked(changed, elsewhere)
		r.mu.Unlock()
	}
	h.publish(ctx, r.name, seqEvent, frame)
	h.after(h.opts.PresenceInterval, func(ctx context.Context) { h.announceWaiting(ctx, r) })
}

// onlineElsewhere returns which of keys are online in room on another
// replica, as the roster says; none when it fails.
func (h *Hub) onlineElsewhere(ctx context.Context, room string, keys []string) map[string]bool {
	if len(keys) == 0 {
		return nil
	}
	there, err := h.roster.Elsewhere(ctx, room, keys...)
	if err != nil {
		h.logger.Debug("ask the roster; announcing them offline", "room", room, "err", err)
	}
	elsewhere := make(map[string]bool, len(there))
	for _, key := range there {
		elsewhere[key] = true
	}
	return elsewhere
}

// presenceLocked encodes the presence now of the people in changed
// (nickname by folded nickname): online when they are online here, or
// in elsewhere. r.mu is held.
func (r *room) presenceLocked(changed map[string]string, elsewhere map[string]bool) []byte {
	var online, offline []string
	for key, nick := range changed {
		switch p := r.online[key]; {
		case p != nil:
			online = append(online, p.nick)
		case elsewhere[key]:
			online = append(online, nick)
		default:
			offline = append(offline, nick)
		}
	}
	return protocol.Presence(r.name, online, offline)
}

// online returns the nicknames of the people online in room on any
// replica, sorted, each person once, and how many they are: those online
// here, with the nickname they have here, and those the roster names
// besides, which are all when it fails. In a large room (more than
// Options.LargeRoom online here) it returns only how many: a list that
// every join rebuilt and sent whole made a join cost in proportion to the
// room.
func (h *Hub) online(ctx context.Context, room string) ([]string, int) {
	seen := make(map[string]bool)
	var nicks []string
	if r := h.localRoom(room); r != nil {
		r.mu.Lock()
		here := len(r.online)
		if here > h.opts.LargeRoom {
			r.mu.Unlock()
			return nil, h.countOnline(ctx, room, r, here)
		}
		for key, p := range r.online {
			seen[key] = true
			nicks = append(nicks, p.nick)
		}
		r.mu.Unlock()
	}
	all, err := h.roster.Online(ctx, room)
	if err != nil {
		h.logger.Debug("ask the roster who is online; answering for this replica", "room", room, "err", err)
	}
	for _, nick := range all {
		if key := parley.NickKey(nick); !seen[key] {
			seen[key] = true
			nicks = append(nicks, nick)
		}
	}
	sort.Strings(nicks)
	return nicks, len(nicks)
}

// countOnline returns how many people are online in room, r, on any
// replica, here of them on this one. With one replica, that is here.
func (h *Hub) countOnline(ctx context.Context, room string, r *room, here int) int {
	if _, ok := h.roster.(*LocalRoster); ok {
		return here
	}
	all, err := h.roster.Online(ctx, room)
	if err != nil {
		h.logger.Debug("ask the roster who is online; counting this replica's", "room", room, "err", err)
		return here
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.online)
	for _, nick := range all {
		if r.online[parley.NickKey(nick)] == nil {
			n++
		}
	}
	return n
}

// leaveIfAway ends nick's membership of room unless they are online in it,
// on this replica or on another.
func (h *Hub) leaveIfAway(ctx context.Context, room, nick string) {
	key := parley.NickKey(nick)
	// Under way before the look: a join that comes online after it waits.
	defer h.startLeave(room, key)()
	if h.onlineHere(room, key) {
		return
	}
	elsewhere, err := h.roster.Elsewhere(ctx, room, key)
	if err != nil {
		h.logger.Debug("ask the roster after restart; ending the membership", "room", room, "nick", nick, "err", err)
	}
	if len(elsewhere) > 0 {
		return
	}
	large := false
	if r := h.localRoom(room); r != nil {
		large = h.large(r)
	}
	h.storeLeave(ctx, room, nick, large)
}

// large reports whether r is a large room now (see Options.LargeRoom).
func (h *Hub) large(r *room) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.online) > h.opts.LargeRoom
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
