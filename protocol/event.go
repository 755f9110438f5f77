package protocol

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/parley-chat/parley"
)

// Types of the events the server sends that are not log entries. A log
// entry's type is its parley.EntryKind.
const (
	EventWelcome  = "welcome"
	EventJoined   = "joined"
	EventLeft     = "left"
	EventAck      = "ack"
	EventOnline   = "online"
	EventOffline  = "offline"
	EventPresence = "presence"
	EventTyping   = "typing"
	EventRead     = "read"
	EventRooms    = "rooms"
	EventPong     = "pong"
	EventError    = "error"
)

// EventTypes lists every type of event that is not a log entry.
var EventTypes = []string{
	EventWelcome, EventJoined, EventLeft, EventAck, EventOnline, EventOffline,
	EventPresence, EventTyping, EventRead, EventRooms, EventPong, EventError,
}

// EntryTypes lists every type of log entry.
var EntryTypes = []string{
	string(parley.KindMessage), string(parley.KindJoin), string(parley.KindLeave),
	string(parley.KindEdit), string(parley.KindDelete),
}

// Limits are the limits a server tells a client in welcome.
type Limits struct {
	MaxTextBytes  int `json:"maxTextBytes"`
	MaxFrameBytes int `json:"maxFrameBytes"`
	MaxNickLength int `json:"maxNickLength"`
	MaxRoomLength int `json:"maxRoomLength"`
}

// The events, as encoded. Each encoder below fills in the type.
type (
	welcome struct {
		Type    string `json:"type"`
		V       int    `json:"v"`
		Nick    string `json:"nick"`
		Kind    string `json:"kind"`
		Session string `json:"session,omitempty"`
		Limits  Limits `json:"limits"`
	}
	joined struct {
		Type        string   `json:"type"`
		Room        string   `json:"room"`
		LastSeq     int64    `json:"lastSeq"`
		ReadSeq     int64    `json:"readSeq"`
		Online      []string `json:"online,omitempty"`
		OnlineCount int      `json:"onlineCount"`
		// ReplayFrom, when set, says that the replay starts after it
		// rather than after the join's since: the entries between were
		// not sent.
		ReplayFrom int64 `json:"replayFrom,omitempty"`
	}
	read struct {
		Type string `json:"type"`
		Room string `json:"room"`
		Seq  int64  `json:"seq"`
	}
	ack struct {
		Type     string `json:"type"`
		Room     string `json:"room"`
		ClientID string `json:"clientId"`
		Seq      int64  `json:"seq"`
		At       string `json:"at"`
	}
	roomEvent struct {
		Type string `json:"type"`
		Room string `json:"room,omitempty"`
	}
	presenceOne struct {
		Type string `json:"type"`
		Room string `json:"room"`
		Nick string `json:"nick"`
	}
	presenceMany struct {
		Type    string   `json:"type"`
		Room    string   `json:"room"`
		Online  []string `json:"online"`
		Offline []string `json:"offline"`
	}
	presenceCount struct {
		Type        string   `json:"type"`
		Room        string   `json:"room"`
		Online      []string `json:"online"`
		Offline     []string `json:"offline"`
		OnlineCount int      `json:"onlineCount"`
	}
	typing struct {
		Type string `json:"type"`
		Room string `json:"room"`
		From string `json:"from"`
	}
	errorEvent struct {
		Type     string `json:"type"`
		Code     string `json:"code"`
		Message  string `json:"message"`
		Room     string `json:"room,omitempty"`
		ClientID string `json:"clientId,omitempty"`
	}
)

// Welcome answers a successful hello of the person called nick, with a
// session of kind (parley.SessionKind): session is its token when the
// hello made it or presented it, and empty when the hello used the
// upgrade request's cookie or bearer token, which the client knows, or
// must not read.
func Welcome(nick, kind, session string, limits Limits) []byte {
	return mustMarshal(welcome{Type: EventWelcome, V: Version, Nick: nick, Kind: kind, Session: session, Limits: limits})
}

// Joined answers a join, before its replay: readSeq is the person's read
// marker in the room. online lists who is online in the room, sorted, and
// count says how many are; in a large room online is nil, and left out,
// and count alone says.
func Joined(room string, lastSeq, readSeq int64, online []string, count int) []byte {
	return mustMarshal(joined{Type: EventJoined, Room: room, LastSeq: lastSeq, ReadSeq: readSeq, Online: online, OnlineCount: count})
}

// Read tells a person's other connections that they have read room up to
// the entry seq.
func Read(room string, seq int64) []byte {
	return mustMarshal(read{Type: EventRead, Room: room, Seq: seq})
}

// Rooms tells a person that they may now see room, which they could not:
// they were added to a private room, or a direct conversation with them
// was made. The client reads its rooms again (GET /api/rooms).
func Rooms(room string) []byte { return mustMarshal(roomEvent{Type: EventRooms, Room: room}) }

// JoinedPartial answers a join whose replay is cut short: it starts after
// replayFrom, not after the join's since, and the client reads the
// entries between over REST (docs/PROTOCOL.md).
func JoinedPartial(room string, lastSeq, readSeq int64, online []string, count int, replayFrom int64) []byte {
	return mustMarshal(joined{Type: EventJoined, Room: room, LastSeq: lastSeq, ReadSeq: readSeq, Online: online, OnlineCount: count, ReplayFrom: replayFrom})
}

// Left answers a leave.
func Left(room string) []byte { return mustMarshal(roomEvent{Type: EventLeft, Room: room}) }

// Pong answers a ping.
func Pong() []byte { return mustMarshal(roomEvent{Type: EventPong}) }

// Ack acknowledges the stored message, edit or deletion e to its sender.
func Ack(e *parley.Entry) []byte {
	return mustMarshal(ack{Type: EventAck, Room: e.Room, ClientID: e.ClientID, Seq: e.Seq, At: e.At.UTC().Format(time.RFC3339Nano)})
}

// Presence tells the presence in room of the people it names: those in
// online are online, those in offline are not. One person's change is an
// online or offline event; several are one presence event, with sorted
// lists. Both lists empty is a presence event that says nothing.
func Presence(room string, online, offline []string) []byte {
	switch {
	case len(online) == 1 && len(offline) == 0:
		return mustMarshal(presenceOne{Type: EventOnline, Room: room, Nick: online[0]})
	case len(online) == 0 && len(offline) == 1:
		return mustMarshal(presenceOne{Type: EventOffline, Room: room, Nick: offline[0]})
	}
	online, offline = sorted(online), sorted(offline)
	return mustMarshal(presenceMany{Type: EventPresence, Room: room, Online: online, Offline: offline})
}

// sorted returns a sorted copy of s, never nil, so that it encodes as [].
func sorted(s []string) []string {
	s = slices.Clone(s)
	if s == nil {
		s = []string{}
	}
	slices.Sort(s)
	return s
}

// PresenceAll tells who is online in a room that was large (see
// PresenceCount) and is no longer: online lists everyone online, offline
// those who went. It is always a presence event, even for one person, so
// that a client knows the list is whole.
func PresenceAll(room string, online, offline []string) []byte {
	return mustMarshal(presenceCount{Type: EventPresence, Room: room, Online: sorted(online), Offline: sorted(offline), OnlineCount: len(online)})
}

// PresenceCount tells how many people are online in a large room, where
// presence events name nobody: a presence event with both lists empty.
func PresenceCount(room string, count int) []byte {
	return mustMarshal(presenceCount{Type: EventPresence, Room: room, Online: []string{}, Offline: []string{}, OnlineCount: count})
}

// Typing tells that from is typing in room.
func Typing(room, from string) []byte {
	return mustMarshal(typing{Type: EventTyping, Room: room, From: from})
}

// Error refuses a frame: its code and message are err's (parley.CodeOf,
// parley.MessageOf), so internal details never reach the client. room and
// clientID name what the frame was about, when it was.
func Error(err error, room, clientID string) []byte {
	return mustMarshal(errorEvent{Type: EventError, Code: parley.CodeOf(err), Message: parley.MessageOf(err), Room: room, ClientID: clientID})
}

// Entry returns the event of the log entry e.
func Entry(e *parley.Entry) []byte { return mustMarshal(e) }

// Entries returns the events of entries joined by newlines: one WebSocket
// message carrying them all.
func Entries(entries []*parley.Entry) []byte {
	var buf bytes.Buffer
	buf.Grow(256 * len(entries))
	// An Encoder ends each value with a newline, and encodes as Marshal
	// does, without a copy of each.
	enc := json.NewEncoder(&buf)
	for _, e := range entries {
		if err := enc.Encode(e); err != nil {
			panic("protocol: encode " + err.Error())
		}
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})
}

// mustMarshal encodes a value whose type cannot fail to encode.
func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("protocol: encode " + err.Error())
	}
	return b
}

// Event is any event the server sends, decoded: which fields are set
// depends on Type. For clients, tests and tools; the server encodes with
// the functions above.
type Event struct {
	Type string `json:"type"`
	Room string `json:"room"`
	// A log entry's.
	Seq  int64     `json:"seq"`
	From string    `json:"from"` // also typing's
	Text string    `json:"text"`
	At   time.Time `json:"at"` // also ack's
	// An edit's or a deletion's: the number of the message it changes.
	Target int64 `json:"target"`
	// A message's or an edit's, read from the store: the numbers of the
	// message's latest edit and of its deletion.
	Edited  int64 `json:"edited"`
	Deleted int64 `json:"deleted"`
	// ClientID is a message's, an ack's, or an error's.
	ClientID string `json:"clientId"`
	// welcome's.
	V       int     `json:"v"`
	Kind    string  `json:"kind"`
	Session string  `json:"session"`
	Limits  *Limits `json:"limits"`
	Nick    string  `json:"nick"` // also online's and offline's
	// joined's; Online and OnlineCount are presence's too. (read's is
	// Seq.)
	LastSeq     int64    `json:"lastSeq"`
	ReadSeq     int64    `json:"readSeq"`
	Online      []string `json:"online"`
	OnlineCount int      `json:"onlineCount"`
	Offline     []string `json:"offline"`
	// ReplayFrom is joined's when its replay is partial (JoinedPartial).
	ReplayFrom int64 `json:"replayFrom"`
	// error's.
	Code    string `json:"code"`
	Message string `json:"message"`
}

// IsEntry reports whether e is a log entry.
func (e Event) IsEntry() bool { return e.Seq > 0 && slices.Contains(EntryTypes, e.Type) }

// Entry returns the log entry e holds; e must be one (IsEntry).
func (e Event) Entry() *parley.Entry {
	return &parley.Entry{
		Room: e.Room, Seq: e.Seq, Kind: parley.EntryKind(e.Type), From: e.From, Text: e.Text,
		Target: e.Target, Edited: e.Edited, Deleted: e.Deleted, ClientID: e.ClientID, At: e.At,
	}
}

// DecodeEvents parses one WebSocket message from the server: one or more
// events separated by newlines.
func DecodeEvents(msg []byte) ([]Event, error) {
	var events []Event
	for line := range bytes.SplitSeq(msg, []byte{'\n'}) {
		var e Event
		if err := json.Unmarshal(line, &e); err != nil {
			return events, fmt.Errorf("decode event %q: %w", line, err)
		}
		if e.Type == "" {
			return events, fmt.Errorf("decode event %q: no type", line)
		}
		events = append(events, e)
	}
	return events, nil
}
