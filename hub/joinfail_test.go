package hub

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/parley-chat/parley"
)

// failingJoins is a store whose Join fails while fail is set, as a store
// that cannot write does.
type failingJoins struct {
	parley.Store
	fail atomic.Bool
}

func (s *failingJoins) Join(ctx context.Context, room, nick string) (*parley.Entry, error) {
	if s.fail.Load() {
		return nil, errors.New("disk full")
	}
	return s.Store.Join(ctx, room, nick)
}

// TestRefusedJoinChangesNothing: a join whose membership the store cannot
// write returns the error and tells nobody anything: the joiner gets no
// joined event or replay and is in no room, the others see no presence
// change, and the joiner can try again.
func TestRefusedJoinChangesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := openStore(t)
		store := &failingJoins{Store: db}
		f := startHub(t, store, Options{Grace: serverGrace})
		bob, pb := f.connect(t, "bob")
		mustJoin(t, bob, "general", nil)
		pb.next(t, "bob's own join entry", func(e event) bool { return e.Type == "join" && e.From == "bob" })

		ana, pa := f.connect(t, "ana")
		store.fail.Store(true)
		if err := ana.Join(context.Background(), "general", ptr(0)); err == nil {
			t.Fatal("Join() with a failing store = nil, want the error")
		}
		advance(defaultPresenceInterval)
		pa.none(t, "anything for the refused join", func(event) bool { return true })
		pb.none(t, "any presence change or entry for the refused join", func(e event) bool { return e.From == "ana" || e.Nick == "ana" || isPresence("ana", true)(e) })
		if n := f.hub.Online(context.Background(), "general"); n != 1 {
			t.Errorf("Online() after the refused join = %d, want 1 (bob)", n)
		}
		if _, err := ana.Send(context.Background(), "general", "a-1", "hi"); parley.CodeOf(err) != "not_joined" {
			t.Errorf("Send() after the refused join = %v, want not_joined", err)
		}

		store.fail.Store(false)
		mustJoin(t, ana, "general", nil)
		pb.all(t, "ana online and her join entry", isPresence("ana", true),
			func(e event) bool { return e.Type == "join" && e.From == "ana" })
	})
}
