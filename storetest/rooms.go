package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// testPrivateRoom makes a private room: its owner and members see it, and
// nobody else; only the store's names make one, and a join never does.
func testPrivateRoom(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	ctx := t.Context()
	for _, name := range []string{"ana", "bob", "cy"} {
		mustCreateAccount(t, s, name)
	}
	name := parley.NewPrivateRoomName()
	before := time.Now()
	r := &parley.Room{Name: name, Kind: parley.RoomPrivate, Title: "Plans", Topic: "What next", Description: "Where we plan.\nBe kind.", Owner: "ANA"}
	if err := s.CreateRoom(ctx, r, []string{"BOB"}); err != nil {
		t.Fatalf("CreateRoom(private) = %v", err)
	}
	checkTime(t, "CreateRoom().CreatedAt", r.CreatedAt, before, time.Now())
	if r.Owner != "ana" {
		t.Errorf("CreateRoom().Owner = %q, want the account's own name ana", r.Owner)
	}
	got, err := s.Room(ctx, name)
	if err != nil || got.Kind != parley.RoomPrivate || got.Title != "Plans" || got.Topic != "What next" || got.Description != "Where we plan.\nBe kind." || got.Owner != "ana" {
		t.Errorf("Room(private) = %+v, %v", got, err)
	}
	for who, want := range map[string]parley.Role{"Ana": parley.RoleOwner, "bob": parley.RoleMember, "cy": "", "nobody": ""} {
		if role, err := s.Role(ctx, name, who); err != nil || role != want {
			t.Errorf("Role(private, %s) = %q, %v; want %q", who, role, err, want)
		}
	}
	if _, err := s.Role(ctx, "~nothere", "ana"); parley.KindOf(err) != parley.NotFound {
		t.Errorf("Role(no room) = %v, want NotFound", err)
	}
	if members, err := s.RoomMembers(ctx, name); err != nil || !slices.Equal(members, []parley.RoomMember{
		{Room: name, Name: "ana", Role: parley.RoleOwner}, {Room: name, Name: "bob", Role: parley.RoleMember}}) {
		t.Errorf("RoomMembers(private) = %+v, %v", members, err)
	}
	if err := s.CreateRoom(ctx, &parley.Room{Name: name, Kind: parley.RoomPrivate, Owner: "cy"}, nil); parley.KindOf(err) != parley.Conflict {
		t.Errorf("CreateRoom(a name taken) = %v, want Conflict", err)
	}

	// Members come and go; the owner stays.
	if err := s.SetRole(ctx, name, "Cy", parley.RoleMember); err != nil {
		t.Fatalf("SetRole(cy, member) = %v", err)
	}
	if err := s.SetRole(ctx, name, "bob", ""); err != nil {
		t.Fatalf("SetRole(bob, none) = %v", err)
	}
	for who, want := range map[string]parley.Role{"bob": "", "cy": parley.RoleMember} {
		if role, _ := s.Role(ctx, name, who); role != want {
			t.Errorf("Role(%s) after changes = %q, want %q", who, role, want)
		}
	}
	for _, tt := range []struct {
		room, who string
		role      parley.Role
		kind      parley.Kind
	}{
		{name, "ana", "", parley.Invalid},
		{name, "bob", parley.RoleOwner, parley.Invalid},
		{name, "nobody", parley.RoleMember, parley.NotFound},
		{"~nothere", "bob", parley.RoleMember, parley.NotFound},
		{parley.DefaultRoom, "bob", parley.RoleMember, parley.Invalid},
	} {
		if err := s.SetRole(ctx, tt.room, tt.who, tt.role); parley.KindOf(err) != tt.kind {
			t.Errorf("SetRole(%s, %s, %q) = %v, want %v", tt.room, tt.who, tt.role, err, tt.kind)
		}
	}

	// Who sees what.
	visible := func(viewer string) []string {
		rooms, err := s.VisibleRooms(ctx, viewer, "", parley.MaxPageSize)
		if err != nil {
			t.Fatalf("VisibleRooms(%s) = %v", viewer, err)
		}
		var names []string
		for _, r := range rooms {
			names = append(names, r.Name)
		}
		return names
	}
	mustEnsureRoom(t, s, "dev")
	for viewer, want := range map[string][]string{
		"ana": {"dev", "general", name}, "CY": {"dev", "general", name}, "bob": {"dev", "general"}, "": {"dev", "general"},
	} {
		if got := visible(viewer); !slices.Equal(got, want) {
			t.Errorf("VisibleRooms(%q) = %q, want %q", viewer, got, want)
		}
	}
	if page, err := s.VisibleRooms(ctx, "ana", "dev", 1); err != nil || len(page) != 1 || page[0].Name != "general" {
		t.Errorf("VisibleRooms(ana, after dev, 1) = %v, %v; want general", page, err)
	}

	title, topic, description := "Plans B", "", "Plans, kept."
	if err := s.UpdateRoom(ctx, name, parley.RoomUpdate{Title: &title, Topic: &topic, Description: &description}); err != nil {
		t.Fatalf("UpdateRoom() = %v", err)
	}
	if got, _ := s.Room(ctx, name); got == nil || got.Title != "Plans B" || got.Topic != "" || got.Description != "Plans, kept." {
		t.Errorf("Room() after UpdateRoom = %+v", got)
	}
	bad := " x"
	if err := s.UpdateRoom(ctx, name, parley.RoomUpdate{Topic: &bad}); parley.KindOf(err) != parley.Invalid {
		t.Errorf("UpdateRoom(bad topic) = %v, want Invalid", err)
	}
	if err := s.UpdateRoom(ctx, "~nothere", parley.RoomUpdate{Topic: &topic}); parley.KindOf(err) != parley.NotFound {
		t.Errorf("UpdateRoom(no room) = %v, want NotFound", err)
	}

	// Only CreateRoom makes rooms of server-made names.
	for _, made := range []string{parley.NewPrivateRoomName(), "@00"} {
		if _, err := s.EnsureRoom(ctx, made); parley.KindOf(err) != parley.NotFound {
			t.Errorf("EnsureRoom(%q) = %v, want NotFound", made, err)
		}
	}
	if r, err := s.EnsureRoom(ctx, name); err != nil || r.Kind != parley.RoomPrivate {
		t.Errorf("EnsureRoom(existing private room) = %+v, %v; want it as it is", r, err)
	}
	if r, err := s.Room(ctx, "dev"); err != nil || r.Kind != parley.RoomPublic || r.Owner != "" {
		t.Errorf("Room(dev) = %+v, %v; want a public room without owner", r, err)
	}
}

func testDirectRoom(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	ctx := t.Context()
	for _, name := range []string{"ana", "bob"} {
		mustCreateAccount(t, s, name)
	}
	name, err := parley.DirectRoomName([]string{"bob", "ANA"})
	if err != nil {
		t.Fatal(err)
	}
	r := &parley.Room{Name: name, Kind: parley.RoomDirect}
	if err := s.CreateRoom(ctx, r, []string{"ana", "Bob"}); err != nil {
		t.Fatalf("CreateRoom(direct) = %v", err)
	}
	if err := s.CreateRoom(ctx, &parley.Room{Name: name, Kind: parley.RoomDirect}, []string{"ana", "bob"}); parley.KindOf(err) != parley.Conflict {
		t.Errorf("CreateRoom(the same direct room again) = %v, want Conflict", err)
	}
	if members, err := s.RoomMembers(ctx, name); err != nil || !slices.Equal(members, []parley.RoomMember{
		{Room: name, Name: "ana", Role: parley.RoleMember}, {Room: name, Name: "bob", Role: parley.RoleMember}}) {
		t.Errorf("RoomMembers(direct) = %+v, %v", members, err)
	}
	if err := s.SetRole(ctx, name, "ana", ""); parley.KindOf(err) != parley.Invalid {
		t.Errorf("SetRole(direct room) = %v, want Invalid: a direct room's people are fixed", err)
	}
	other, _ := parley.DirectRoomName([]string{"ana", "zed"})
	if err := s.CreateRoom(ctx, &parley.Room{Name: other, Kind: parley.RoomDirect}, []string{"ana", "zed"}); parley.KindOf(err) != parley.NotFound {
		t.Errorf("CreateRoom(direct, with no account zed) = %v, want NotFound", err)
	}
	if _, err := s.Room(ctx, other); parley.KindOf(err) != parley.NotFound {
		t.Errorf("Room() after a refused CreateRoom = %v, want NotFound", err)
	}
	for _, bad := range []*parley.Room{
		{Name: "plain", Kind: parley.RoomPrivate, Owner: "ana"},
		{Name: parley.NewPrivateRoomName(), Kind: parley.RoomPublic},
		{Name: parley.NewPrivateRoomName(), Kind: parley.RoomPrivate},
	} {
		if err := s.CreateRoom(ctx, bad, nil); parley.KindOf(err) != parley.Invalid {
			t.Errorf("CreateRoom(%+v) = %v, want Invalid", bad, err)
		}
	}
	// The conversation goes on like any room's.
	e := &parley.Entry{Room: name, Kind: parley.KindMessage, From: "ana", ClientID: "a-1", Text: "hi"}
	if _, err := s.Append(ctx, e); err != nil || e.Seq != 1 {
		t.Errorf("Append(direct) = %v, seq %d", err, e.Seq)
	}
}
