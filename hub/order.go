package hub

// The order of a room's log on this replica: publications are delivered in
// sequence, with no gap and no repeat (receive, drainLocked); a gap that a
// lost publication leaves is filled from the store (fillGap); each entry is
// handed to every subscriber without blocking (broadcastLocked).

import (
	"context"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/protocol"
)

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
			h.receive(r, pack(e.Seq, protocol.Entry(e)))
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
