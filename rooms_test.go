package parley_test

import (
	"strings"
	"testing"

	"github.com/parley-chat/parley"
)

func TestServerMadeNames(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		name := parley.NewPrivateRoomName()
		if !strings.HasPrefix(name, "~") || len(name) != 17 || seen[name] || !parley.ServerMade(name) || parley.ValidateRoomName(name) != nil {
			t.Fatalf("NewPrivateRoomName() = %q, want a new valid ~ name of 17 characters", name)
		}
		seen[name] = true
	}
	a, err := parley.DirectRoomName([]string{"Ana", "bob"})
	if err != nil {
		t.Fatal(err)
	}
	for _, same := range [][]string{{"bob", "ana"}, {"BOB", "\u0430na"}, {"ana", "bob", "Bob"}} {
		if b, err := parley.DirectRoomName(same); err != nil || b != a {
			t.Errorf("DirectRoomName(%q) = %q, %v; want %q, the room of the same people", same, b, err, a)
		}
	}
	if c, _ := parley.DirectRoomName([]string{"ana", "bob", "cy"}); c == a {
		t.Error("DirectRoomName of three people = that of two")
	}
	if !strings.HasPrefix(a, "@") || len(a) != 25 || !parley.ServerMade(a) || parley.ValidateRoomName(a) != nil {
		t.Errorf("DirectRoomName() = %q, want @ and 24 hex digits", a)
	}
	for _, bad := range [][]string{{"ana"}, {"ana", "ANA"}, {"ana", " bob"}, {"a", "b", "c", "d", "e", "f", "g", "h", "i"}} {
		if _, err := parley.DirectRoomName(bad); parley.KindOf(err) != parley.Invalid {
			t.Errorf("DirectRoomName(%q) = %v, want Invalid", bad, err)
		}
	}
	for name, made := range map[string]bool{"general": false, "~x": true, "@y": true, "a~b": false} {
		if parley.ServerMade(name) != made {
			t.Errorf("ServerMade(%q) = %v, want %v", name, !made, made)
		}
		if err := parley.ValidatePublicRoomName(name); (err == nil) == made {
			t.Errorf("ValidatePublicRoomName(%q) = %v", name, err)
		}
	}
	if err := parley.ValidatePublicRoomName(" x"); parley.CodeOf(err) != parley.CodeInvalidRoom {
		t.Errorf("ValidatePublicRoomName(\" x\") = %v, want invalid_room", err)
	}
}

func TestRoomValidateNew(t *testing.T) {
	direct, _ := parley.DirectRoomName([]string{"ana", "bob"})
	private := parley.NewPrivateRoomName()
	for _, good := range []parley.Room{
		{Name: private, Kind: parley.RoomPrivate, Owner: "ana", Title: "Plans", Topic: "Q3"},
		{Name: direct, Kind: parley.RoomDirect},
	} {
		if err := good.ValidateNew(); err != nil {
			t.Errorf("ValidateNew(%+v) = %v", good, err)
		}
	}
	for _, bad := range []parley.Room{
		{Name: "", Kind: parley.RoomPrivate, Owner: "ana"},
		{Name: "plans", Kind: parley.RoomPrivate, Owner: "ana"},
		{Name: private, Kind: parley.RoomPrivate},
		{Name: private, Kind: parley.RoomDirect},
		{Name: "dev", Kind: parley.RoomPublic},
		{Name: private, Kind: parley.RoomPrivate, Owner: "ana", Title: " x"},
		{Name: private, Kind: parley.RoomPrivate, Owner: "ana", Topic: strings.Repeat("t", parley.MaxTopicLen+1)},
	} {
		if err := bad.ValidateNew(); parley.KindOf(err) != parley.Invalid {
			t.Errorf("ValidateNew(%+v) = %v, want Invalid", bad, err)
		}
	}
}

func TestRoomUpdateValidate(t *testing.T) {
	text := func(s string) *string { return &s }
	for _, good := range []parley.RoomUpdate{{}, {Title: text("Plans"), Topic: text("")}, {Topic: text("Ünïcode ✓")},
		{Description: text("Where we plan.\n\nBe kind; no spam.")}, {Description: text("")}} {
		if err := good.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", good, err)
		}
	}
	for _, bad := range []parley.RoomUpdate{
		{Title: text(strings.Repeat("x", parley.MaxRoomTitleLen+1))}, {Title: text("a\u202eb")},
		{Topic: text("\xff")}, {Topic: text("ends ")},
		{Description: text("tab\there")}, {Description: text(strings.Repeat("d", parley.MaxDescriptionLen+1))},
		{Description: text(strings.Repeat("d\n", parley.MaxDescriptionLen/2+1))},
	} {
		if err := bad.Validate(); parley.KindOf(err) != parley.Invalid {
			t.Errorf("Validate(%+v) = %v, want Invalid", bad, err)
		}
	}
}

func TestRoomErrors(t *testing.T) {
	if err := parley.ErrNoRoom("x"); parley.KindOf(err) != parley.NotFound || !strings.Contains(err.Error(), `"x"`) {
		t.Errorf("ErrNoRoom() = %v", err)
	}
	if err := parley.ErrRoomExists("x"); parley.KindOf(err) != parley.Conflict || parley.CodeOf(err) != parley.CodeRoomExists {
		t.Errorf("ErrRoomExists() = %v", err)
	}
	if err := parley.ErrArchived("x"); parley.KindOf(err) != parley.Forbidden || parley.CodeOf(err) != parley.CodeArchived || !strings.Contains(err.Error(), `"x"`) {
		t.Errorf("ErrArchived() = %v", err)
	}
	if err := parley.ErrDefaultRoom(); parley.KindOf(err) != parley.Forbidden || parley.CodeOf(err) != parley.CodeDefaultRoom {
		t.Errorf("ErrDefaultRoom() = %v", err)
	}
	if err := parley.ErrNoAccount("ana"); parley.KindOf(err) != parley.NotFound || !strings.Contains(err.Error(), "ana") {
		t.Errorf("ErrNoAccount() = %v", err)
	}
	if s := (&parley.Session{Kind: parley.SessionGuest}); !s.Guest() {
		t.Error("a guest's session is not Guest()")
	}
	if s := (&parley.Session{Kind: parley.SessionToken}); s.Guest() {
		t.Error("a token is Guest()")
	}
}

func TestAccountUpdateValidate(t *testing.T) {
	text := func(s string) *string { return &s }
	hash := parley.HashPassword("password", cheap)
	for _, good := range []parley.AccountUpdate{{}, {DisplayName: text("Ana")}, {PasswordHash: &hash}} {
		if err := good.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", good, err)
		}
	}
	for _, bad := range []parley.AccountUpdate{{DisplayName: text(" Ana")}, {PasswordHash: text("plain")}} {
		if err := bad.Validate(); parley.KindOf(err) != parley.Invalid {
			t.Errorf("Validate(%+v) = %v, want Invalid", bad, err)
		}
	}
}

func TestAmendments(t *testing.T) {
	msg := &parley.Entry{Room: "general", Kind: parley.KindMessage, From: "Ana", ClientID: "a-1", Text: "hello"}
	edit := &parley.Entry{Room: "general", Kind: parley.KindEdit, From: "ana", ClientID: "a-2", Target: 3, Text: "hello!"}
	del := &parley.Entry{Room: "general", Kind: parley.KindDelete, From: "bob", ClientID: "b-1", Target: 3}
	if err := msg.ValidateMessage(); err != nil {
		t.Errorf("ValidateMessage(message) = %v", err)
	}
	for _, e := range []*parley.Entry{edit, del} {
		if err := e.ValidateAmendment(); err != nil {
			t.Errorf("ValidateAmendment(%s) = %v", e.Kind, err)
		}
		if err := e.ValidateMessage(); parley.KindOf(err) != parley.Invalid {
			t.Errorf("ValidateMessage(%s) = %v, want Invalid", e.Kind, err)
		}
	}
	if err := msg.ValidateAmendment(); parley.KindOf(err) != parley.Invalid {
		t.Errorf("ValidateAmendment(message) = %v, want Invalid", err)
	}
	for _, bad := range []parley.Entry{
		{Room: "general", Kind: parley.KindJoin, From: "ana"},
		{Room: "general", Kind: parley.KindMessage, ClientID: "x", Text: "t"},
		{Room: "general", Kind: parley.KindMessage, From: "ana", ClientID: "x", Text: "t", Target: 2},
		{Room: "general", Kind: parley.KindEdit, From: "ana", ClientID: "x", Text: "t"},
		{Room: "general", Kind: parley.KindDelete, From: "ana", ClientID: "x", Target: 2, Text: "t"},
		{Room: "general", Kind: parley.KindEdit, From: "ana", ClientID: "x", Target: 2, Text: " "},
		{Room: "general", Kind: parley.KindDelete, From: "ana", Target: 2},
		{Room: " ", Kind: parley.KindMessage, From: "ana", ClientID: "x", Text: "t"},
	} {
		if err := bad.Validate(); parley.KindOf(err) != parley.Invalid {
			t.Errorf("Validate(%+v) = %v, want Invalid", bad, err)
		}
	}
	ana, bob, root := parley.Actor{Nick: "ANA"}, parley.Actor{Nick: "bob"}, parley.Actor{Nick: "root", Admin: true}
	for _, tt := range []struct {
		by           parley.Actor
		edit, delete bool
	}{{ana, true, true}, {bob, false, false}, {root, false, true}} {
		if got := parley.MayEdit(tt.by, msg); got != tt.edit {
			t.Errorf("MayEdit(%+v) = %v, want %v", tt.by, got, tt.edit)
		}
		if got := parley.MayDelete(tt.by, msg); got != tt.delete {
			t.Errorf("MayDelete(%+v) = %v, want %v", tt.by, got, tt.delete)
		}
	}
	for _, tt := range []struct {
		err  error
		kind parley.Kind
		code string
	}{
		{parley.ErrNotYours(edit), parley.Forbidden, parley.CodeNotYours},
		{parley.ErrNotYours(del), parley.Forbidden, parley.CodeNotYours},
		{parley.ErrNoMessage(edit), parley.NotFound, parley.CodeNoMessage},
		{parley.ErrAlreadyDeleted(del), parley.Conflict, parley.CodeAlreadyDeleted},
		{parley.ValidateReadSeq(-1), parley.Invalid, parley.CodeInvalidSeq},
		{parley.ErrReadBeyondLog("general", 9, 4), parley.Invalid, parley.CodeInvalidSeq},
		{parley.ValidateRoomPage(0), parley.Invalid, parley.CodeInvalidPage},
	} {
		if parley.KindOf(tt.err) != tt.kind || parley.CodeOf(tt.err) != tt.code || parley.MessageOf(tt.err) == "" {
			t.Errorf("%v: kind %v code %s, want %v %s", tt.err, parley.KindOf(tt.err), parley.CodeOf(tt.err), tt.kind, tt.code)
		}
	}
	if err := parley.ValidateReadSeq(0); err != nil {
		t.Errorf("ValidateReadSeq(0) = %v", err)
	}
	if err := parley.ValidateRoomPage(parley.MaxPageSize); err != nil {
		t.Errorf("ValidateRoomPage(MaxPageSize) = %v", err)
	}
}
