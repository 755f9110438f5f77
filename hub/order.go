package hub

// The order of a room's log on this replica: publications are delivered in
// sequence, with no gap and no repeat (receive, drainLocked); a gap that a
// lost publication leaves is filled from the store (fillGap), and so is
// what the broker says it may have lost (catchUp); each entry is handed to
// every subscriber without blocking (broadcastLocked).

import (
	"context"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/protocol"
)

// receive handles one publication to r from the broker, or, when msg is
// nil, the broker's word that publications may have been lost.
func (h *Hub) receive(r *room, msg []byte) {
	if msg == nil {
		h.scheduleCatchUp(r)
		return
	}
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
	if r.gapFill || r.released {
		return
	}
	r.gapFill = true
	h.after(h.opts.GapWait, func(ctx context.Context) { h.fillGap(ctx, r) })
}

// fillGap reads from the store the entries r has not delivered but holds
// later ones of, or knows to be committed (see catchUp), and delivers them
// in order.
func (h *Hub) fillGap(ctx context.Context, r *room) {
	r.mu.Lock()
	r.gapFill = false
	from, upto, released := r.delivered, r.known, r.released
	for seq := range r.pending {
		upto = max(upto, seq-1)
	}
	r.mu.Unlock()
	if from < 0 || upto <= from || released {
		return // a released room has nobody to fill for, and may be deleted
	}
	for entries, err := range h.entryPages(ctx, r.name, from, upto) {
		if parley.KindOf(err) == parley.NotFound {
			return // deleted: CloseRoom closes its subscribers
		}
		if err != nil {
			h.logger.Error("fill gap", "room", r.name, "after", from, "err", err)
			r.mu.Lock()
			h.scheduleGapFillLocked(r)
			r.mu.Unlock()
			return
		}
		for _, e := range entries {
			h.receive(r, pack(e.Seq, protocol.Entry(e)))
		}
	}
	h.logger.Debug("filled gap", "room", r.name, "upto", upto)
}

// scheduleCatchUp arranges for r to catch up from the store (catchUp),
// unless it is about to already.
func (h *Hub) scheduleCatchUp(r *room) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.catchUp || r.released {
		return
	}
	r.catchUp = true
	h.schedule(func(ctx context.Context) { h.catchUp(ctx, r) })
}

// catchUp reads the newest sequence number of r's log from the store and
// delivers, from the store, the entries up to it that r has not delivered.
// The broker has said that publications may have been lost, and if no
// later entry is published, no gap would show them missing. When r does
// not know its delivered number yet, acquire fills up to the number read
// here once it does.
func (h *Hub) catchUp(ctx context.Context, r *room) {
	r.mu.Lock()
	r.catchUp = false
	released := r.released
	r.mu.Unlock()
	if released {
		return
	}
	info, err := h.store.Room(ctx, r.name)
	switch {
	case parley.KindOf(err) == parley.NotFound:
		return // no entry to miss: the first is published after the room is stored
	case err != nil:
		h.logger.Error("catch up", "room", r.name, "err", err)
		r.mu.Lock()
		if !r.catchUp && !r.released {
			r.catchUp = true
			h.after(h.opts.GapWait, func(ctx context.Context) { h.catchUp(ctx, r) })
		}
		r.mu.Unlock()
		return
	}
	r.mu.Lock()
	r.known = max(r.known, info.LastSeq)
	behind := r.delivered >= 0 && r.known > r.delivered
	r.mu.Unlock()
	if behind {
		h.logger.Debug("catching up", "room", r.name, "upto", info.LastSeq)
		h.fillGap(ctx, r)
	}
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
	events, err := protocol.DecodeEvents(frame)
	if err != nil || len(events) != 1 {
		return
	}
	typist := parley.NickKey(events[0].From)
	for c, s := range r.subs {
		if s.replaying || c.key == typist || c.queuedBytes() > h.opts.QueueBytes/2 {
			continue
		}
		c.enqueue(frame)
	}
}
