package postgres

import (
	"slices"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
)

// mustCreateAccounts stores active accounts of the names given.
func mustCreateAccounts(t *testing.T, db *DB, names ...string) {
	t.Helper()
	hash := parley.HashPassword("password", parley.PasswordParams{Memory: 8, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16})
	for _, name := range names {
		if err := db.CreateAccount(t.Context(), &parley.Account{Name: name, PasswordHash: hash}); err != nil {
			t.Fatalf("CreateAccount(%s) = %v", name, err)
		}
	}
}

// TestRoomRefusalsChangeNothing queues changes of rooms that are refused
// in one transaction with others that succeed: a refused CreateRoom has
// stored nothing of its room, so a CreateRoom of the same name after it
// makes the room, and one after that finds it made.
func TestRoomRefusalsChangeNothing(t *testing.T) {
	db := mustOpen(t, newDatabase(t), WithWriters(1))
	ctx := t.Context()
	mustCreateAccounts(t, db, "ana", "Bob")
	name, err := parley.DirectRoomName([]string{"ana", "bob"})
	if err != nil {
		t.Fatal(err)
	}
	w := db.writerFor(name)
	release := holdWriter(t, db, name)
	before := w.batches.Load()
	queue := func(members ...string) (*op, *parley.Room, func()) {
		t.Helper()
		r := &parley.Room{Name: name, Kind: parley.RoomDirect}
		o, made, err := newCreateRoom(r, members)
		if err != nil {
			t.Fatal(err)
		}
		return queueOp(t, db, name, o), r, made
	}
	nobody, _, _ := queue("ana", "zed")
	made, room, setRoom := queue("ANA", "bob")
	again, _, _ := queue("ana", "bob")
	appended := queueAppend(t, db, message("ana", "c-1", "hello"))
	release()

	if err := w.await(ctx, nobody); parley.KindOf(err) != parley.NotFound {
		t.Errorf("CreateRoom(ana, zed) = %v, want NotFound", err)
	}
	if err := w.await(ctx, made); err != nil {
		t.Errorf("CreateRoom(ana, bob) after a refused one = %v, want nil", err)
	}
	if err := w.await(ctx, again); parley.CodeOf(err) != "room_exists" {
		t.Errorf("CreateRoom(ana, bob) again = %v, want Conflict room_exists", err)
	}
	if err := w.await(ctx, appended); err != nil || appended.out.Seq != 1 {
		t.Errorf("Append() beside the rooms' changes = Seq %d, %v; want 1, nil", appended.out.Seq, err)
	}
	if got := w.batches.Load() - before; got != 2 {
		t.Errorf("committed %d transactions, want 2: the held one, then one for all queued ops", got)
	}
	setRoom()
	if room.CreatedAt.IsZero() || room.Owner != "" {
		t.Errorf("CreateRoom() set %+v, want its time and no owner", room)
	}
	if members, err := db.RoomMembers(ctx, name); err != nil || !slices.Equal(members, []parley.RoomMember{
		{Room: name, Name: "ana", Role: parley.RoleMember}, {Room: name, Name: "Bob", Role: parley.RoleMember}}) {
		t.Errorf("RoomMembers(direct) = %+v, %v; want ana and Bob", members, err)
	}
}

// TestRoomsUnstorable: names that PostgreSQL cannot hold name no room and
// nobody; none is sent to the database, where it would fail the writes it
// shared a transaction with.
func TestRoomsUnstorable(t *testing.T) {
	db := mustOpen(t, newDatabase(t))
	ctx := t.Context()
	mustCreateAccounts(t, db, "ana")
	private := parley.NewPrivateRoomName()
	if err := db.CreateRoom(ctx, &parley.Room{Name: private, Kind: parley.RoomPrivate, Owner: "ana"}, nil); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"nul\x00", "bad\xff"} {
		if _, err := db.Role(ctx, bad, "ana"); parley.KindOf(err) != parley.NotFound {
			t.Errorf("Role(%q, ana) = %v, want NotFound", bad, err)
		}
		if role, err := db.Role(ctx, private, bad); err != nil || role != "" {
			t.Errorf("Role(private, %q) = %q, %v; want none", bad, role, err)
		}
		if err := db.SetRole(ctx, bad, "ana", parley.RoleMember); parley.KindOf(err) != parley.NotFound {
			t.Errorf("SetRole(%q, ana) = %v, want NotFound", bad, err)
		}
		if err := db.SetRole(ctx, private, bad, parley.RoleMember); parley.KindOf(err) != parley.NotFound {
			t.Errorf("SetRole(private, %q, member) = %v, want NotFound", bad, err)
		}
		if err := db.SetRole(ctx, private, bad, ""); err != nil {
			t.Errorf("SetRole(private, %q, none) = %v, want nil: nobody to remove", bad, err)
		}
		if _, err := db.RoomMembers(ctx, bad); parley.KindOf(err) != parley.NotFound {
			t.Errorf("RoomMembers(%q) = %v, want NotFound", bad, err)
		}
		if rooms, err := db.VisibleRooms(ctx, bad, "", parley.MaxPageSize); err != nil || len(rooms) != 1 || rooms[0].Name != parley.DefaultRoom {
			t.Errorf("VisibleRooms(%q) = %v, %v; want the public room alone", bad, rooms, err)
		}
		topic := "t"
		if err := db.UpdateRoom(ctx, bad, parley.RoomUpdate{Topic: &topic}); parley.KindOf(err) != parley.NotFound {
			t.Errorf("UpdateRoom(%q) = %v, want NotFound", bad, err)
		}
		other, _ := parley.DirectRoomName([]string{"ana", "zed"})
		for _, r := range []*parley.Room{{Name: other, Kind: parley.RoomDirect}, {Name: parley.NewPrivateRoomName(), Kind: parley.RoomPrivate, Owner: bad}} {
			if err := db.CreateRoom(ctx, r, []string{"ana", bad}); parley.KindOf(err) != parley.NotFound {
				t.Errorf("CreateRoom(%s, with %q) = %v, want NotFound", r.Kind, bad, err)
			}
		}
	}
	if members, err := db.RoomMembers(ctx, private); err != nil || len(members) != 1 {
		t.Errorf("RoomMembers(private) = %v, %v; want its owner alone", members, err)
	}
	if e := mustAppend(t, db, message("ana", "c-1", "hello")); e.Seq != 1 {
		t.Errorf("Append() after refused changes set Seq %d, want 1", e.Seq)
	}
}

// TestRoomMembersOfPublicRoom: a public room has no members by access, an
// empty list that encodes as [] in JSON.
func TestRoomMembersOfPublicRoom(t *testing.T) {
	db := mustOpen(t, newDatabase(t))
	if members, err := db.RoomMembers(t.Context(), parley.DefaultRoom); err != nil || members == nil || len(members) != 0 {
		t.Errorf("RoomMembers(public) = %#v, %v; want none, not nil", members, err)
	}
}

// TestRoomChanges checks what storetest leaves: a member added twice is
// one member, removing who is not a member changes nothing, and bad input
// is refused before it is queued.
func TestRoomChanges(t *testing.T) {
	db := mustOpen(t, newDatabase(t))
	ctx := t.Context()
	mustCreateAccounts(t, db, "ana", "bob")
	private := parley.NewPrivateRoomName()
	if err := db.CreateRoom(ctx, &parley.Room{Name: private, Kind: parley.RoomPrivate, Owner: "ana"}, []string{"ana"}); err != nil {
		t.Fatal(err)
	}
	for _, change := range []struct {
		who  string
		role parley.Role
	}{{"bob", parley.RoleMember}, {"BOB", parley.RoleMember}, {"cy", ""}} {
		if err := db.SetRole(ctx, private, change.who, change.role); err != nil {
			t.Errorf("SetRole(%s, %q) = %v", change.who, change.role, err)
		}
	}
	if members, err := db.RoomMembers(ctx, private); err != nil || !slices.Equal(members, []parley.RoomMember{
		{Room: private, Name: "ana", Role: parley.RoleOwner}, {Room: private, Name: "bob", Role: parley.RoleMember}}) {
		t.Errorf("RoomMembers() = %v, %v; want ana, the owner, and bob once", members, err)
	}
	long := strings.Repeat("x", parley.MaxRoomTitleLen+1)
	for _, bad := range []*parley.Room{
		{Name: "~" + strings.Repeat("x", parley.MaxRoomNameLen), Kind: parley.RoomPrivate, Owner: "ana"},
		{Name: parley.NewPrivateRoomName(), Kind: parley.RoomPrivate, Owner: "ana", Title: long},
	} {
		if err := db.CreateRoom(ctx, bad, nil); parley.KindOf(err) != parley.Invalid {
			t.Errorf("CreateRoom(%+v) = %v, want Invalid", bad, err)
		}
	}
	if _, err := db.VisibleRooms(ctx, "ana", "", 0); parley.KindOf(err) != parley.Invalid {
		t.Errorf("VisibleRooms(limit 0) = %v, want Invalid", err)
	}
}
