package hub

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"

	"github.com/parley-chat/parley"
)

// gatedLeaves is a store whose Leave waits for the test, as a slow commit
// would.
type gatedLeaves struct {
	parley.Store
	entered chan struct{}
	proceed chan struct{}
}

func (s *gatedLeaves) Leave(ctx context.Context, room, nick string) (*parley.Entry, error) {
	s.entered <- struct{}{}
	<-s.proceed
	return s.Store.Leave(ctx, room, nick)
}

// TestRejoinWhileLeavingKeepsMembership: a person whose grace period has
// just ended comes back while their leave is being stored. Their join
// waits for the leave, then is stored after it: they stay a member, and
// the log says they left and joined again.
func TestRejoinWhileLeavingKeepsMembership(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		db := openStore(t)
		store := &gatedLeaves{Store: db, entered: make(chan struct{}, 10), proceed: make(chan struct{})}
		f := startHub(t, store, Options{Grace: serverGrace})
		ana, pa := f.connect(t, "ana")
		mustJoin(t, ana, "general", nil)
		bob, _ := f.connect(t, "bob")
		mustJoin(t, bob, "general", nil)
		bob.Disconnect()
		advance(serverGrace) // bob goes offline; his leave is under way
		<-store.entered

		again, _ := f.connect(t, "bob")
		joined := make(chan error, 1)
		go func() { joined <- again.Join(ctx, "general", nil) }()
		synctest.Wait()
		select {
		case err := <-joined:
			t.Fatalf("Join() = %v while bob's leave was being stored, want it to wait", err)
		default:
		}
		close(store.proceed)
		if err := <-joined; err != nil {
			t.Fatalf("Join() = %v", err)
		}
		synctest.Wait()

		members, err := db.Members(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(members, parley.Member{Room: "general", Nick: "bob"}) {
			t.Errorf("Members() = %v with bob back in general, want bob a member", members)
		}
		var kinds []string
		for len(pa.events) > 0 {
			if e := <-pa.events; e.IsEntry() && e.From == "bob" {
				kinds = append(kinds, e.Type)
			}
		}
		if want := []string{"join", "leave", "join"}; !slices.Equal(kinds, want) {
			t.Errorf("ana saw bob's entries %q, want %q", kinds, want)
		}
	})
}
