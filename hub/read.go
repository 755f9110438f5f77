package hub

import (
	"context"
	"encoding/json"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/protocol"
)

// Read markers: how far a person has read each room, kept in the store
// (parley.Store.MarkRead). When one connection of a person marks a room
// read, the person's other connections, on this replica and on every
// other, get a read event at once, so that tabs and devices agree on what
// is unread. The event is a courtesy: a replica that misses one, as a
// broker may lose publications, leaves a connection's count high until the
// next mark or join, and the store holds the marker all along.

// readChannel is the broker channel on which replicas tell each other of
// read markers that moved. No room has its name: room names are printable.
const readChannel = "\x00read"

// readNews is a publication on readChannel.
type readNews struct {
	Hub  string `json:"hub"` // the ID of the hub that publishes it
	Key  string `json:"key"` // the person's NickKey
	Room string `json:"room"`
	Seq  int64  `json:"seq"`
}

// MarkRead records that c's person has read the room named name, which c
// must have joined, up to the entry seq, and tells the person's other
// connections, on every replica, with a read event. A marker never moves
// back: a seq at or below what c knows of the marker (from its join, or
// its last mark) does nothing, not even a store write, so a client that
// marks more often than needed costs little. Errors are NotFound
// (not_joined) when c is not in the room, and the store's: Invalid
// (invalid_seq) for a seq that is negative or beyond the room's log.
func (c *Client) MarkRead(ctx context.Context, name string, seq int64) error {
	if _, ok := c.rooms[name]; !ok {
		return notJoined(name)
	}
	if err := parley.ValidateReadSeq(seq); err != nil {
		return err
	}
	if seq <= c.marked[name] {
		return nil
	}
	h := c.h
	if err := h.store.MarkRead(ctx, name, c.nick, seq); err != nil {
		return err
	}
	c.marked[name] = seq
	h.deliverRead(c.key, c, protocol.Read(name, seq))
	msg, err := json.Marshal(readNews{Hub: h.id, Key: c.key, Room: name, Seq: seq})
	if err != nil {
		return err
	}
	if err := h.broker.Publish(ctx, readChannel, msg); err != nil {
		// The marker is stored; only other replicas' tabs are not told.
		h.logger.Debug("publish a read marker", "room", name, "err", err)
	}
	return nil
}

// receiveRead handles a publication on readChannel.
func (h *Hub) receiveRead(msg []byte) {
	var n readNews
	if msg == nil || json.Unmarshal(msg, &n) != nil || n.Hub == h.id {
		return // nil: news may have been lost, and the store has the markers
	}
	h.deliverRead(n.Key, nil, protocol.Read(n.Room, n.Seq))
}

// deliverRead queues frame, a read event or a notice, for every
// connection here of the person whose NickKey is key, but except.
func (h *Hub) deliverRead(key string, except *Client, frame []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.people[key] {
		if c != except {
			c.enqueue(frame)
		}
	}
}
