package hub

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/protocol"
)

// TestArchivedRoom: an archived room is read as before, with its
// history, and refuses messages, edits and deletions with archived.
func TestArchivedRoom(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		f := newFixture(t, Options{Grace: serverGrace})
		ana, _ := f.connect(t, "ana")
		mustJoin(t, ana, "attic", nil)
		old := mustSend(t, ana, "attic", "a-1", "last words")
		yes := true
		if err := f.store.UpdateRoom(ctx, "attic", parley.RoomUpdate{Archived: &yes}); err != nil {
			t.Fatal(err)
		}
		if _, err := ana.Send(ctx, "attic", "a-2", "more"); parley.CodeOf(err) != parley.CodeArchived {
			t.Errorf("Send(archived) = %v, want archived", err)
		}
		if _, err := ana.Edit(ctx, "attic", "a-3", old.Seq, "changed"); parley.CodeOf(err) != parley.CodeArchived {
			t.Errorf("Edit(archived) = %v, want archived", err)
		}
		if _, err := ana.Delete(ctx, "attic", "a-4", old.Seq); parley.CodeOf(err) != parley.CodeArchived {
			t.Errorf("Delete(archived) = %v, want archived", err)
		}
		bob, pb := f.connect(t, "bob")
		mustJoin(t, bob, "attic", ptr(0))
		pb.next(t, "the archived room's history", func(e event) bool { return e.Type == "message" && e.Text == "last words" })
	})
}

// TestCloseRoom: once the store has deleted a room, CloseRoom closes
// everyone in it out, on every replica, with CloseAccessChanged, and no
// one else; a resume of the old log is refused, and a room made later
// under the name starts afresh on every replica.
func TestCloseRoom(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := openStore(t)
		broker := NewLocal()
		here, there := startHubOn(t, store, broker, Options{Grace: serverGrace}), startHubOn(t, store, broker, Options{Grace: serverGrace})
		synctest.Wait()

		ana, pa := here.connect(t, "ana")
		mustJoin(t, ana, "lounge", nil)
		mustJoin(t, ana, "porch", nil)
		bob, pb := there.connect(t, "bob")
		mustJoin(t, bob, "lounge", nil)
		cy, _ := there.connect(t, "cy")
		mustJoin(t, cy, "porch", nil)
		var last int64
		for i, text := range []string{"one", "two", "three"} {
			last = mustSend(t, ana, "lounge", "a-"+string(rune('1'+i)), text).Seq
		}
		pb.next(t, "ana's last message", func(e event) bool { return e.Type == "message" && e.Text == "three" })

		if err := store.DeleteRoom(ctx, "lounge"); err != nil {
			t.Fatal(err)
		}
		if err := here.hub.CloseRoom(ctx, "lounge"); err != nil {
			t.Fatalf("CloseRoom() = %v", err)
		}
		for _, p := range []*probe{pa, pb} {
			if code := p.closeCode(t); code != protocol.CloseAccessChanged {
				t.Errorf("%s's close code after CloseRoom = %d, want %d", p.c.Nick(), code, protocol.CloseAccessChanged)
			}
		}
		if closed(cy) {
			t.Error("cy, in another room only, was closed")
		}
		ana.Disconnect()
		bob.Disconnect()
		advance(serverGrace) // the departures of the old room end

		// A resume of the old log is refused on both replicas.
		for _, f := range []*fixture{here, there} {
			c, _ := f.connect(t, "dan")
			if err := c.Join(ctx, "lounge", ptr(last)); parley.CodeOf(err) != protocol.CodeBadSince {
				t.Errorf("Join(deleted room, since %d) = %v, want bad_since", last, err)
			}
			c.Disconnect()
		}

		// The name makes a new room, whose entries reach every replica.
		eve, _ := here.connect(t, "eve")
		mustJoin(t, eve, "lounge", nil)
		fay, pf := there.connect(t, "fay")
		mustJoin(t, fay, "lounge", ptr(0))
		fresh := mustSend(t, eve, "lounge", "e-1", "fresh")
		if fresh.Seq > 3 {
			t.Errorf("the new room's message has seq %d, want its log to start afresh", fresh.Seq)
		}
		pf.next(t, "the new room's message", func(e event) bool { return e.Type == "message" && e.Text == "fresh" })
		if r, err := store.Room(ctx, "lounge"); err != nil || r.LastSeq != fresh.Seq {
			t.Errorf("Room(new lounge) = %+v, %v", r, err)
		}
	})
}
