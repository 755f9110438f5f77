package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// testArchive archives a room: it stays readable and joinable, takes no
// message, edit or deletion (but answers a retry of one it took before),
// keeps the time it was first archived, and takes messages again once
// brought back. The default room cannot be archived.
func testArchive(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	ctx := t.Context()
	mustEnsureRoom(t, s, "attic")
	sent := mustAppend(t, s, "attic", "ana", "c1", "before")
	yes, no := true, false

	before := time.Now()
	if err := s.UpdateRoom(ctx, "attic", parley.RoomUpdate{Archived: &yes}); err != nil {
		t.Fatalf("UpdateRoom(archive) = %v", err)
	}
	r, err := s.Room(ctx, "attic")
	if err != nil || r.ArchivedAt == nil {
		t.Fatalf("Room(archived) = %+v, %v; want ArchivedAt set", r, err)
	}
	first := *r.ArchivedAt
	checkTime(t, "Room(archived).ArchivedAt", first, before, time.Now())
	for _, rooms := range [][]*parley.Room{mustRooms(t, s), mustVisible(t, s, "ana")} {
		i := slices.IndexFunc(rooms, func(r *parley.Room) bool { return r.Name == "attic" })
		if i < 0 || rooms[i].ArchivedAt == nil || !rooms[i].ArchivedAt.Equal(first) {
			t.Errorf("the archived room in a list = %+v, want ArchivedAt %v", rooms[max(i, 0)], first)
		}
	}

	// Nothing new is stored; a retry of what was stored is answered.
	for _, e := range []*parley.Entry{
		{Room: "attic", Kind: parley.KindMessage, From: "bob", ClientID: "c2", Text: "after"},
		{Room: "attic", Kind: parley.KindEdit, From: "ana", ClientID: "c3", Target: sent.Seq, Text: "changed"},
		{Room: "attic", Kind: parley.KindDelete, From: "ana", ClientID: "c4", Target: sent.Seq},
	} {
		var err error
		if e.Kind == parley.KindMessage {
			_, err = s.Append(ctx, e)
		} else {
			_, err = s.Amend(ctx, e, true)
		}
		if parley.KindOf(err) != parley.Forbidden || parley.CodeOf(err) != parley.CodeArchived {
			t.Errorf("%s in an archived room = %v, want Forbidden (archived)", e.Kind, err)
		}
	}
	retry := &parley.Entry{Room: "attic", Kind: parley.KindMessage, From: "ana", ClientID: "c1", Text: "before"}
	if dup, err := s.Append(ctx, retry); err != nil || !dup || retry.Seq != sent.Seq {
		t.Errorf("Append(a retry, archived) = %v, %v, seq %d; want true, nil, seq %d", dup, err, retry.Seq, sent.Seq)
	}
	checkEntries(t, "Entries(archived)", mustAllEntries(t, s, "attic"), []*parley.Entry{sent})

	// Readers still come and go.
	if _, err := s.Join(ctx, "attic", "cy"); err != nil {
		t.Errorf("Join(archived) = %v, want nil", err)
	}

	// Archiving again keeps the first time, even after a reopen.
	nextMillisecond()
	if err := s.UpdateRoom(ctx, "attic", parley.RoomUpdate{Archived: &yes}); err != nil {
		t.Fatalf("UpdateRoom(archive again) = %v", err)
	}
	s.Close()
	s = mustOpen(t, open)
	if r, err := s.Room(ctx, "attic"); err != nil || r.ArchivedAt == nil || !r.ArchivedAt.Equal(first) {
		t.Errorf("Room(archived twice, reopened) = %+v, %v; want ArchivedAt %v", r, err, first)
	}

	// Brought back, it takes messages and edits again.
	if err := s.UpdateRoom(ctx, "attic", parley.RoomUpdate{Archived: &no}); err != nil {
		t.Fatalf("UpdateRoom(unarchive) = %v", err)
	}
	if r, err := s.Room(ctx, "attic"); err != nil || r.ArchivedAt != nil {
		t.Errorf("Room(unarchived) = %+v, %v; want no ArchivedAt", r, err)
	}
	after := mustAppend(t, s, "attic", "bob", "c2", "after")
	if after.Seq != sent.Seq+2 { // the join of cy came between
		t.Errorf("Append(unarchived).Seq = %d, want %d", after.Seq, sent.Seq+2)
	}
	if _, err := s.Amend(ctx, &parley.Entry{Room: "attic", Kind: parley.KindEdit, From: "ana", ClientID: "c3", Target: sent.Seq, Text: "changed"}, false); err != nil {
		t.Errorf("Amend(unarchived) = %v", err)
	}

	// The default room always takes messages; an unknown room is not found.
	err = s.UpdateRoom(ctx, parley.DefaultRoom, parley.RoomUpdate{Archived: &yes})
	if parley.KindOf(err) != parley.Forbidden || parley.CodeOf(err) != parley.CodeDefaultRoom {
		t.Errorf("UpdateRoom(archive %s) = %v, want Forbidden (default_room)", parley.DefaultRoom, err)
	}
	if r, err := s.Room(ctx, parley.DefaultRoom); err != nil || r.ArchivedAt != nil {
		t.Errorf("Room(%s) after a refused archive = %+v, %v", parley.DefaultRoom, r, err)
	}
	if err := s.UpdateRoom(ctx, "nowhere", parley.RoomUpdate{Archived: &yes}); parley.KindOf(err) != parley.NotFound {
		t.Errorf("UpdateRoom(archive no room) = %v, want NotFound", err)
	}
}

// testDeleteRoom deletes rooms with their logs, members, access lists and
// read markers: a room made later under the same name starts afresh.
func testDeleteRoom(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	ctx := t.Context()
	for _, name := range []string{"ana", "bob", "cy"} {
		mustCreateAccount(t, s, name)
	}
	mustEnsureRoom(t, s, "doomed")
	mustEnsureRoom(t, s, "kept")
	for i := range 3 {
		mustAppend(t, s, "doomed", "ana", "d"+string(rune('0'+i)), "gone soon")
	}
	if _, err := s.Join(ctx, "doomed", "bob"); err != nil {
		t.Fatalf("Join = %v", err)
	}
	kept := mustAppend(t, s, "kept", "ana", "k1", "stays")
	mustMarkRead(t, s, "doomed", "bob", 2)
	mustMarkRead(t, s, "kept", "bob", 1)
	const private = "~doomedprivateroom"
	if err := s.CreateRoom(ctx, &parley.Room{Name: private, Kind: parley.RoomPrivate, Owner: "ana"}, []string{"bob"}); err != nil {
		t.Fatalf("CreateRoom = %v", err)
	}
	mustAppend(t, s, private, "ana", "p1", "secret")

	for _, name := range []string{"doomed", private} {
		if err := s.DeleteRoom(ctx, name); err != nil {
			t.Fatalf("DeleteRoom(%s) = %v", name, err)
		}
	}
	for _, name := range []string{"doomed", private} {
		if _, err := s.Room(ctx, name); parley.KindOf(err) != parley.NotFound {
			t.Errorf("Room(deleted %s) = %v, want NotFound", name, err)
		}
		if _, err := s.Entries(ctx, name, parley.Page{Limit: 10}); parley.KindOf(err) != parley.NotFound {
			t.Errorf("Entries(deleted %s) = %v, want NotFound", name, err)
		}
		if _, err := s.Append(ctx, &parley.Entry{Room: name, Kind: parley.KindMessage, From: "ana", ClientID: "late", Text: "hello?"}); parley.KindOf(err) != parley.NotFound {
			t.Errorf("Append(deleted %s) = %v, want NotFound", name, err)
		}
		if err := s.DeleteRoom(ctx, name); parley.KindOf(err) != parley.NotFound {
			t.Errorf("DeleteRoom(deleted %s) = %v, want NotFound", name, err)
		}
	}
	if got := roomNames(mustRooms(t, s)); slices.Contains(got, "doomed") || slices.Contains(got, private) || !slices.Contains(got, "kept") {
		t.Errorf("Rooms() after deletions = %v", got)
	}
	if got := roomNames(mustVisible(t, s, "bob")); slices.Contains(got, private) {
		t.Errorf("VisibleRooms(bob) after deletion = %v", got)
	}
	if _, err := s.Role(ctx, private, "bob"); parley.KindOf(err) != parley.NotFound {
		t.Errorf("Role(deleted room) = %v, want NotFound", err)
	}
	checkMembers(t, s, nil)
	checkMarker(t, s, "doomed", "bob", 0)
	checkMarkers(t, s, "bob", "", parley.MaxPageSize, []parley.ReadMarker{{Room: "kept", Seq: 1}})
	checkEntries(t, "Entries(kept)", mustAllEntries(t, s, "kept"), []*parley.Entry{kept})

	// The names are free: the new rooms know nothing of the old.
	r := mustEnsureRoom(t, s, "doomed")
	if r.LastSeq != 0 || r.Kind != parley.RoomPublic {
		t.Errorf("EnsureRoom(a deleted room's name) = %+v, want an empty public room", r)
	}
	if got := mustAllEntries(t, s, "doomed"); len(got) != 0 {
		t.Errorf("Entries(remade room) = %d entries, want none", len(got))
	}
	if e := mustAppend(t, s, "doomed", "cy", "d0", "new"); e.Seq != 1 {
		t.Errorf("Append(remade room).Seq = %d, want 1", e.Seq)
	}
	if e, err := s.Join(ctx, "doomed", "bob"); err != nil || e == nil {
		t.Errorf("Join(remade room, bob) = %v, %v; want an entry: bob was a member of the old room only", e, err)
	}
	checkMarker(t, s, "doomed", "bob", 0)
	if err := s.CreateRoom(ctx, &parley.Room{Name: private, Kind: parley.RoomPrivate, Owner: "cy"}, nil); err != nil {
		t.Fatalf("CreateRoom(a deleted room's name) = %v", err)
	}
	for who, want := range map[string]parley.Role{"ana": "", "bob": "", "cy": parley.RoleOwner} {
		if role, err := s.Role(ctx, private, who); err != nil || role != want {
			t.Errorf("Role(remade private room, %s) = %q, %v; want %q", who, role, err, want)
		}
	}

	// The default room stays; an unknown room is not found.
	err := s.DeleteRoom(ctx, parley.DefaultRoom)
	if parley.KindOf(err) != parley.Forbidden || parley.CodeOf(err) != parley.CodeDefaultRoom {
		t.Errorf("DeleteRoom(%s) = %v, want Forbidden (default_room)", parley.DefaultRoom, err)
	}
	if _, err := s.Room(ctx, parley.DefaultRoom); err != nil {
		t.Errorf("Room(%s) after a refused deletion = %v", parley.DefaultRoom, err)
	}
	if err := s.DeleteRoom(ctx, "nowhere"); parley.KindOf(err) != parley.NotFound {
		t.Errorf("DeleteRoom(no room) = %v, want NotFound", err)
	}
}

// mustVisible returns the first page of the rooms viewer may see.
func mustVisible(t testing.TB, s parley.Store, viewer string) []*parley.Room {
	t.Helper()
	rooms, err := s.VisibleRooms(t.Context(), viewer, "", parley.MaxPageSize)
	if err != nil {
		t.Fatalf("VisibleRooms(%s) = %v", viewer, err)
	}
	return rooms
}

// testDeleteRoomConcurrent deletes a room while messages are appended to
// it, and makes it again: each append either was stored in the old room
// (and is gone) or failed with NotFound, and the new room's log starts at
// 1 with nothing of the old one.
func testDeleteRoomConcurrent(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	ctx := t.Context()
	mustEnsureRoom(t, s, "busy")
	const senders, each = 4, 20
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, senders*each)
	for i := range senders {
		wg.Go(func() {
			<-start
			for j := range each {
				e := &parley.Entry{Room: "busy", Kind: parley.KindMessage, From: fmt.Sprintf("s%d", i), ClientID: fmt.Sprintf("c%d", j), Text: "hi"}
				if _, err := s.Append(ctx, e); err != nil && parley.KindOf(err) != parley.NotFound {
					errs <- err
				}
			}
		})
	}
	close(start)
	if err := s.DeleteRoom(ctx, "busy"); err != nil {
		t.Errorf("DeleteRoom(while appending) = %v", err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Append(while the room is deleted) = %v, want nil or NotFound", err)
	}
	// Appends after the deletion made nothing: no room, or, where they
	// came first, a room the deletion removed.
	if _, err := s.Room(ctx, "busy"); parley.KindOf(err) != parley.NotFound {
		t.Errorf("Room(deleted while appending) = %v, want NotFound", err)
	}
	mustEnsureRoom(t, s, "busy")
	e := mustAppend(t, s, "busy", "s0", "c0", "again")
	if e.Seq != 1 {
		t.Errorf("Append(remade room).Seq = %d, want 1", e.Seq)
	}
	checkEntries(t, "Entries(remade room)", mustAllEntries(t, s, "busy"), []*parley.Entry{e})
}
