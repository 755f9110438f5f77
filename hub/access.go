package hub

import (
	"context"
	"encoding/json"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/protocol"
)

// Who may be in a room. Anyone may join a public room; a private or direct
// room admits only the people the store lists for it (Store.Role), and to
// anyone else it answers as a room that does not exist. Once someone may
// no longer see a room, Evict closes their connections that are in it, on
// every replica, with protocol.CloseAccessChanged: they reconnect, and
// their join of that room is refused like any other. Once the store has
// deleted a room, CloseRoom closes everyone out of it in the same way, and
// drops the room's state here, so that a room made later under its name
// starts afresh.

// mayJoin refuses nick's join of r, which acquire has made ready, unless r
// is public (or will be, made by this join) or nick may see it.
func (h *Hub) mayJoin(ctx context.Context, r *room, nick string) error {
	r.mu.Lock()
	missing := r.missing
	r.mu.Unlock()
	switch {
	case missing && parley.ServerMade(r.name):
		return parley.ErrNoRoom(r.name) // only the store makes those
	case r.kind == parley.RoomPublic:
		return nil
	}
	role, err := h.store.Role(ctx, r.name, nick)
	switch {
	case parley.KindOf(err) == parley.NotFound:
		return parley.ErrNoRoom(r.name)
	case err != nil:
		return err
	case role == "":
		return parley.ErrNoRoom(r.name)
	}
	return nil
}

// evictChannel is the broker channel on which replicas tell each other who
// may no longer see a room. No room has its name: room names are
// printable.
const evictChannel = "\x00evict"

// eviction is a publication on evictChannel: of one person, or with All,
// of everyone in a deleted room.
type eviction struct {
	Room string `json:"room"`
	Nick string `json:"nick,omitempty"`
	All  bool   `json:"all,omitempty"`
}

// Evict closes, on every replica, every connection of the person called
// nick that is in the room named room, with protocol.CloseAccessChanged:
// the store says they may no longer see it. The connections here close at
// once; other replicas' once the broker carries the news.
func (h *Hub) Evict(ctx context.Context, room, nick string) error {
	h.evict(room, parley.NickKey(nick))
	msg, err := json.Marshal(eviction{Room: room, Nick: nick})
	if err != nil {
		return err
	}
	return h.broker.Publish(ctx, evictChannel, msg)
}

// receiveEviction handles a publication on evictChannel.
func (h *Hub) receiveEviction(msg []byte) {
	var e eviction
	if msg == nil || json.Unmarshal(msg, &e) != nil {
		return // nil: news may have been lost, and cannot be read back
	}
	if e.All {
		h.closeRoom(e.Room)
		return
	}
	h.evict(e.Room, parley.NickKey(e.Nick))
}

// CloseRoom closes, on every replica, every connection that is in the
// room named room, with protocol.CloseAccessChanged, and drops the local
// state of the room: the store has deleted it. The connections here
// close at once; other replicas' once the broker carries the news. A join
// of the name after that finds what the store has then: no room, or a
// new one, whose log starts at 1.
func (h *Hub) CloseRoom(ctx context.Context, room string) error {
	h.closeRoom(room)
	msg, err := json.Marshal(eviction{Room: room, All: true})
	if err != nil {
		return err
	}
	return h.broker.Publish(ctx, evictChannel, msg)
}

// closeRoom closes the local connections that are in the room named room,
// and forgets the room: marked released, it is no longer in h.rooms, so
// that a join acquires it anew, and what is still scheduled for it (a gap
// fill, a catch-up, a departure) finds it released or gone from the
// store.
func (h *Hub) closeRoom(room string) {
	h.mu.Lock()
	r := h.rooms[room]
	if r != nil {
		delete(h.rooms, room)
	}
	h.mu.Unlock()
	if r == nil {
		return
	}
	r.mu.Lock()
	released := r.released
	r.released = true
	out := make([]*Client, 0, len(r.subs))
	for c := range r.subs {
		out = append(out, c)
	}
	r.mu.Unlock()
	for _, c := range out {
		c.close(protocol.CloseAccessChanged)
	}
	if !released {
		<-r.ready
		r.unsubscribe()
		r.unwatch()
	}
}

// evict closes the local connections of the person whose key is key that
// are in the room named room.
func (h *Hub) evict(room, key string) {
	r := h.localRoom(room)
	if r == nil {
		return
	}
	r.mu.Lock()
	var out []*Client
	for c := range r.subs {
		if c.key == key {
			out = append(out, c)
		}
	}
	r.mu.Unlock()
	for _, c := range out {
		c.close(protocol.CloseAccessChanged)
	}
}
