package protocol_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/protocol"
)

// TestEventsRoundTrip encodes every event as the server does and decodes
// it as clients do.
func TestEventsRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 22, 9, 30, 1, 512e6, time.UTC)
	msg := &parley.Entry{Room: "general", Seq: 43, Kind: parley.KindMessage, From: "ana", Text: "Hello, world", ClientID: "a-1", At: at}
	limits := protocol.Limits{MaxTextBytes: 4096, MaxFrameBytes: 16384, MaxNickLength: 32, MaxRoomLength: 64}
	tests := []struct {
		name  string
		frame []byte
		want  protocol.Event
	}{
		{"welcome", protocol.Welcome("ana", "guest", "s3cret", limits),
			protocol.Event{Type: "welcome", V: protocol.Version, Nick: "ana", Kind: "guest", Session: "s3cret", Limits: &limits}},
		{"joined", protocol.Joined("general", 41, 39, []string{"ana", "bob"}, 2),
			protocol.Event{Type: "joined", Room: "general", LastSeq: 41, ReadSeq: 39, Online: []string{"ana", "bob"}, OnlineCount: 2}},
		{"joined a large room", protocol.Joined("general", 41, 0, nil, 5000),
			protocol.Event{Type: "joined", Room: "general", LastSeq: 41, OnlineCount: 5000}},
		{"joined partially", protocol.JoinedPartial("general", 5041, 39, []string{"ana"}, 1, 4041),
			protocol.Event{Type: "joined", Room: "general", LastSeq: 5041, ReadSeq: 39, Online: []string{"ana"}, OnlineCount: 1, ReplayFrom: 4041}},
		{"read", protocol.Read("general", 40), protocol.Event{Type: "read", Room: "general", Seq: 40}},
		{"left", protocol.Left("general"), protocol.Event{Type: "left", Room: "general"}},
		{"pong", protocol.Pong(), protocol.Event{Type: "pong"}},
		{"ack", protocol.Ack(msg), protocol.Event{Type: "ack", Room: "general", ClientID: "a-1", Seq: 43, At: at}},
		{"entry", protocol.Entry(msg),
			protocol.Event{Type: "message", Room: "general", Seq: 43, From: "ana", Text: "Hello, world", ClientID: "a-1", At: at}},
		{"edit", protocol.Entry(&parley.Entry{Room: "general", Seq: 44, Kind: parley.KindEdit, From: "ana", Target: 43, Text: "Hello, all", ClientID: "a-2", At: at}),
			protocol.Event{Type: "edit", Room: "general", Seq: 44, From: "ana", Target: 43, Text: "Hello, all", ClientID: "a-2", At: at}},
		{"delete", protocol.Entry(&parley.Entry{Room: "general", Seq: 45, Kind: parley.KindDelete, From: "ana", Target: 43, ClientID: "a-3", At: at}),
			protocol.Event{Type: "delete", Room: "general", Seq: 45, From: "ana", Target: 43, ClientID: "a-3", At: at}},
		{"message from the store", protocol.Entry(&parley.Entry{Room: "general", Seq: 43, Kind: parley.KindMessage, From: "ana", Edited: 44, Deleted: 45, ClientID: "a-1", At: at}),
			protocol.Event{Type: "message", Room: "general", Seq: 43, From: "ana", Edited: 44, Deleted: 45, ClientID: "a-1", At: at}},
		{"online", protocol.Presence("general", []string{"bob"}, nil), protocol.Event{Type: "online", Room: "general", Nick: "bob"}},
		{"offline", protocol.Presence("general", nil, []string{"bob"}), protocol.Event{Type: "offline", Room: "general", Nick: "bob"}},
		{"presence", protocol.Presence("general", []string{"dan", "carol"}, []string{"erin"}),
			protocol.Event{Type: "presence", Room: "general", Online: []string{"carol", "dan"}, Offline: []string{"erin"}}},
		{"presence of none", protocol.Presence("general", nil, nil),
			protocol.Event{Type: "presence", Room: "general", Online: []string{}, Offline: []string{}}},
		{"presence of a large room", protocol.PresenceCount("general", 4981),
			protocol.Event{Type: "presence", Room: "general", Online: []string{}, Offline: []string{}, OnlineCount: 4981}},
		{"presence of a room small again", protocol.PresenceAll("general", []string{"bob", "ana"}, []string{"carol"}),
			protocol.Event{Type: "presence", Room: "general", Online: []string{"ana", "bob"}, Offline: []string{"carol"}, OnlineCount: 2}},
		{"typing", protocol.Typing("general", "bob"), protocol.Event{Type: "typing", Room: "general", From: "bob"}},
		{"error", protocol.Error(parley.CodeErrorf(parley.Invalid, parley.CodeEmptyMessage, "Message text is empty."), "general", "c-1"),
			protocol.Event{Type: "error", Code: "empty_message", Message: "Message text is empty.", Room: "general", ClientID: "c-1"}},
		{"internal error", protocol.Error(errors.New("disk on fire"), "", ""),
			protocol.Event{Type: "error", Code: "internal", Message: "Something went wrong."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if strings.Contains(string(tt.frame), "\n") {
				t.Errorf("%s encodes with a newline: %s", tt.name, tt.frame)
			}
			got, err := protocol.DecodeEvents(tt.frame)
			if err != nil {
				t.Fatalf("DecodeEvents(%s) = %v", tt.frame, err)
			}
			if diff := cmp.Diff([]protocol.Event{tt.want}, got); diff != "" {
				t.Errorf("DecodeEvents(%s) mismatch (-want +got):\n%s", tt.frame, diff)
			}
		})
	}
}

func TestEntries(t *testing.T) {
	entries := []*parley.Entry{
		{Room: "r", Seq: 1, Kind: parley.KindJoin, From: "ana"},
		{Room: "r", Seq: 2, Kind: parley.KindMessage, From: "ana", Text: "line\nbreak", ClientID: "c"},
	}
	events, err := protocol.DecodeEvents(protocol.Entries(entries))
	if err != nil {
		t.Fatalf("DecodeEvents(Entries()) = %v", err)
	}
	if len(events) != 2 || !events[0].IsEntry() || events[1].Entry().Text != "line\nbreak" || events[1].Seq != 2 {
		t.Errorf("DecodeEvents(Entries()) = %+v, want the two entries", events)
	}
	edit := &parley.Entry{Room: "r", Seq: 3, Kind: parley.KindEdit, From: "ana", Target: 2, Text: "fixed", ClientID: "d", Deleted: 4}
	if got := mustDecode(t, protocol.Entry(edit)); !got[0].IsEntry() || *got[0].Entry() != *edit {
		t.Errorf("DecodeEvents(Entry(%+v)) = %+v, want the edit", *edit, got[0])
	}
	if events := mustDecode(t, protocol.Ack(entries[1])); events[0].IsEntry() {
		t.Errorf("an ack is not an entry: %+v", events[0])
	}
	if events := mustDecode(t, protocol.Read("r", 2)); events[0].IsEntry() {
		t.Errorf("a read event is not an entry: %+v", events[0])
	}
	for _, bad := range []string{"", "{}", "not json", `{"type":"pong"}` + "\n"} {
		if _, err := protocol.DecodeEvents([]byte(bad)); err == nil {
			t.Errorf("DecodeEvents(%q) = nil error, want one", bad)
		}
	}
}

func mustDecode(t *testing.T, msg []byte) []protocol.Event {
	t.Helper()
	events, err := protocol.DecodeEvents(msg)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func TestFrameEncode(t *testing.T) {
	since := int64(0)
	f := protocol.Frame{Type: "join", Room: "general", Since: &since}
	if got, want := string(f.Encode()), `{"type":"join","room":"general","since":0}`; got != want {
		t.Errorf("Encode() = %s, want %s", got, want)
	}
	back, err := protocol.DecodeFrame(f.Encode())
	if err != nil || back.Type != "join" || back.Since == nil || *back.Since != 0 {
		t.Errorf("DecodeFrame(Encode()) = %+v, %v; want the frame", back, err)
	}
}
