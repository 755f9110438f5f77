package hub

// A room here is a room with members on this replica: its local state
// (room), how it starts from the store, the broker and the roster
// (acquire), when it is dropped (releaseIfIdle), and how a join is
// admitted (admit).

import (
	"cmp"
	"context"
	"sync"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/protocol"
)

// room is a room with members on this replica.
//
// r.mu guards every field below it but err, and the fields of each sub in
// subs and of each presence in online. It is taken after Hub.mu, never
// before, and never held while calling the store or the broker.
type room struct {
	name string
	// kind is the room's, read when it is acquired (public for a room
	// the store does not have yet); static once ready is closed.
	kind        parley.RoomKind
	owner       string        // a private room's owner; static once ready is closed
	ready       chan struct{} // closed once delivered is known
	unsubscribe func()        // from the broker; static after acquire
	unwatch     func()        // from the roster; static after acquire

	mu        sync.Mutex
	delivered int64                // newest seq handed to subscribers
	pending   map[int64][]byte     // publications ahead of delivered, nil until there are any
	known     int64                // the newest seq read from the store when catching up (see catchUp)
	gapFill   bool                 // a gap fill is scheduled
	catchUp   bool                 // a catch-up is scheduled
	subs      map[*Client]*sub     // the local subscribers
	online    map[string]*presence // by folded nickname
	// Presence changes go out at most once every PresenceInterval (see
	// announce): the first at once, the others when the interval ends.
	announcing  bool                 // an interval runs
	wasLarge    bool                 // the last presence event was a large room's (a count)
	unannounced map[string]string    // nickname by folded nickname, of changes waiting for the interval's end; nil until there are any
	typing      map[string]time.Time // last typing relayed, by folded nickname, nil until then
	released    bool                 // removed from the hub
	missing     bool                 // the store has no such room yet
	err         error                // why the room could not start; written before ready is closed
}

// sub is one client's subscription to a room; its room's mu guards it.
type sub struct {
	last      int64     // newest seq sent to the client
	replaying bool      // live frames go to backlog until the replay ends
	backlog   []pending // held back while replaying
}

type pending struct {
	seq   int64 // 0 for ephemeral events
	frame []byte
}

// acquire returns the room named name, creating its local state, with a
// broker subscription and a roster watch, when it has none. It waits
// until the room knows the newest sequence number that local subscribers
// have been given, which is 0, with missing set, for a room the store
// does not have yet.
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
		r.unwatch = h.roster.Watch(name, func(gone, back []string) {
			h.schedule(func(ctx context.Context) { h.rosterChanged(ctx, r, gone, back) })
		})
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
			r.kind, r.owner = cmp.Or(info.Kind, parley.RoomPublic), info.Owner
			r.delivered = info.LastSeq
			for seq := range r.pending {
				if seq <= r.delivered {
					delete(r.pending, seq)
				}
			}
			h.drainLocked(r)
			if r.known > r.delivered {
				// The broker said it may have lost publications,
				// and the store had more than the read above.
				h.scheduleGapFillLocked(r)
			}
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
			r.unwatch()
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
		r.unwatch()
	}
}

// localRoom returns the local state of the room named name, or nil.
func (h *Hub) localRoom(name string) *room {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.rooms[name]
}

// admit checks a join's since against the log of r, which acquire has
// made ready, and creates the room in the store when it has none yet,
// once create, when set, allows it. A
// since no greater than what r's members here were given needs no read:
// those entries are committed. Beyond that, an entry may be committed and
// not yet delivered here, so the store decides. A refused join changes
// nothing.
func (h *Hub) admit(ctx context.Context, r *room, since *int64, create func(ctx context.Context, room string) error) error {
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
		if create != nil {
			if err := create(ctx, r.name); err != nil {
				return err
			}
		}
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
		return parley.CodeErrorf(parley.Invalid, protocol.CodeBadSince, "since is %d, but the newest entry of room %q is %d.", since, name, last)
	}
	return nil
}
