package hub

import (
	"context"
	"encoding/json"

	"github.com/parley-chat/parley"
)

// Notify sends frame, an event, to every connection of the person called
// nick, on every replica: news of their own, such as a room they may now
// see (protocol.Rooms). The connections here get it at once, others' once
// the broker carries it; like a read event, it is a courtesy that a lost
// publication delays until the client next reads its rooms.
func (h *Hub) Notify(ctx context.Context, nick string, frame []byte) error {
	key := parley.NickKey(nick)
	h.deliverRead(key, nil, frame)
	msg, err := json.Marshal(notice{Hub: h.id, Key: key, Frame: frame})
	if err != nil {
		return err
	}
	return h.broker.Publish(ctx, noticeChannel, msg)
}

// noticeChannel is the broker channel of Notify. No room has its name:
// room names are printable.
const noticeChannel = "\x00notice"

// notice is a publication on noticeChannel.
type notice struct {
	Hub   string          `json:"hub"` // the ID of the hub that publishes it
	Key   string          `json:"key"` // the person's NickKey
	Frame json.RawMessage `json:"frame"`
}

// receiveNotice handles a publication on noticeChannel.
func (h *Hub) receiveNotice(msg []byte) {
	var n notice
	if msg == nil || json.Unmarshal(msg, &n) != nil || n.Hub == h.id || len(n.Frame) == 0 {
		return
	}
	h.deliverRead(n.Key, nil, n.Frame)
}
