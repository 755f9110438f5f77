package hub

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/protocol"
)

// TestPrivateRoomJoin: a private room admits its members only, and to
// anyone else answers exactly as a room that does not exist, whatever the
// join asks; evicted people are closed out on every replica.
func TestPrivateRoomJoin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := openStore(t)
		addAccounts(t, store, "ana", "bob", "cy")
		secret := parley.NewPrivateRoomName()
		if err := store.CreateRoom(ctx, &parley.Room{Name: secret, Kind: parley.RoomPrivate, Owner: "ana"}, []string{"bob"}); err != nil {
			t.Fatal(err)
		}
		broker := NewLocal()
		here, there := startHubOn(t, store, broker, Options{}), startHubOn(t, store, broker, Options{})
		synctest.Wait()

		ana, _ := here.connect(t, "ana")
		mustJoin(t, ana, secret, nil)
		plans := mustSend(t, ana, secret, "a-1", "plans")
		bob, pb := there.connect(t, "bob")
		mustJoin(t, bob, secret, ptr(0))
		pb.next(t, "ana's message", func(e event) bool { return e.Type == "message" && e.Text == "plans" })

		cy, _ := here.connect(t, "cy")
		nothere := parley.NewPrivateRoomName()
		for _, tt := range []struct {
			room  string
			since *int64
		}{{nothere, nil}, {nothere, ptr(1)}, {secret, nil}, {secret, ptr(0)}, {secret, ptr(99)}, {"@00", nil}} {
			err := cy.Join(ctx, tt.room, tt.since)
			want := parley.ErrNoRoom(tt.room)
			if parley.KindOf(err) != parley.NotFound || parley.MessageOf(err) != parley.MessageOf(want) {
				t.Errorf("cy's Join(%q, %v) = %v, want %v", tt.room, tt.since, err, want)
			}
		}
		if _, err := cy.Send(ctx, secret, "c-1", "let me in"); parley.CodeOf(err) != protocol.CodeNotJoined {
			t.Errorf("cy's Send(private) = %v, want not_joined", err)
		}
		if _, err := store.Room(ctx, nothere); parley.KindOf(err) != parley.NotFound {
			t.Errorf("a refused join made the room %q: %v", nothere, err)
		}

		// The owner moderates her room: she deletes bob's message; he may
		// not delete hers.
		oops := mustSend(t, bob, secret, "b-1", "oops")
		if _, err := ana.Delete(ctx, secret, "a-2", oops.Seq); err != nil {
			t.Errorf("the owner's Delete of a member's message = %v", err)
		}
		if _, err := bob.Delete(ctx, secret, "b-2", plans.Seq); parley.CodeOf(err) != parley.CodeNotYours {
			t.Errorf("a member's Delete of the owner's message = %v, want not_yours", err)
		}

		// Removed, bob is closed out on his replica, and cannot come back.
		if err := store.SetRole(ctx, secret, "bob", ""); err != nil {
			t.Fatal(err)
		}
		if err := here.hub.Evict(ctx, secret, "BOB"); err != nil {
			t.Fatalf("Evict() = %v", err)
		}
		if code := pb.closeCode(t); code != protocol.CloseAccessChanged {
			t.Errorf("bob's close code after Evict = %d, want %d", code, protocol.CloseAccessChanged)
		}
		bob.Disconnect()
		again, _ := there.connect(t, "bob")
		if err := again.Join(ctx, secret, nil); parley.KindOf(err) != parley.NotFound {
			t.Errorf("bob's Join after removal = %v, want NotFound", err)
		}
		if closed(ana) {
			t.Error("ana was closed by bob's eviction")
		}
	})
}

// TestNotify: news of a person's own reaches every connection of theirs,
// on every replica, and nobody else's.
func TestNotify(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := openStore(t)
		broker := NewLocal()
		here, there := startHubOn(t, store, broker, Options{}), startHubOn(t, store, broker, Options{})
		synctest.Wait()
		_, p1 := here.connect(t, "ana")
		_, p2 := there.connect(t, "ANA")
		_, pb := there.connect(t, "bob")
		if err := here.hub.Notify(ctx, "ana", protocol.Rooms("~plans")); err != nil {
			t.Fatalf("Notify() = %v", err)
		}
		for _, p := range []*probe{p1, p2} {
			p.next(t, "the rooms event", func(e event) bool { return e.Type == "rooms" && e.Room == "~plans" })
		}
		broker.Publish(ctx, noticeChannel, []byte("not json"))
		broker.Publish(ctx, noticeChannel, nil)
		pb.none(t, "a rooms event for bob", func(e event) bool { return e.Type == "rooms" })
	})
}
