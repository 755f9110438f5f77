package hub

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/parley-chat/parley"
)

// joinedEvent joins c to room from since and returns its joined event.
func joinedEvent(t *testing.T, c *Client, p *probe, room string, since *int64) event {
	t.Helper()
	mustJoin(t, c, room, since)
	return p.next(t, "joined", isType("joined"))
}

// checkReplay reads the entries a join's replay sends, from after start to
// upto, and fails on a gap or a duplicate.
func checkReplay(t *testing.T, p *probe, start, upto int64) {
	t.Helper()
	for want := start + 1; want <= upto; want++ {
		e := p.next(t, fmt.Sprint("entry ", want), func(e event) bool { return e.IsEntry() })
		if e.Seq != want {
			t.Fatalf("replay after %d: got seq %d, want %d", start, e.Seq, want)
		}
	}
}

// TestReplayCappedPerJoin: a join further behind than MaxReplay is sent
// the newest MaxReplay entries, says in joined where they start, and goes
// on live from there; the entries it was not sent are the store's, for
// the client to read. Together: every entry once.
func TestReplayCappedPerJoin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{Grace: serverGrace, MaxReplay: 50, ReplayBudget: -1})
		bob, _ := f.connect(t, "bob")
		mustJoin(t, bob, "general", nil)
		for i := range 120 {
			mustSend(t, bob, "general", fmt.Sprint(i), "filling the log")
		}
		ana, p := f.connect(t, "ana")
		j := joinedEvent(t, ana, p, "general", ptr(10))
		if j.LastSeq != 121 || j.ReplayFrom != 71 {
			t.Fatalf("join since 10 of 121 entries: joined %+v, want lastSeq 121 and replayFrom 71", j)
		}
		checkReplay(t, p, 71, 121)
		live := mustSend(t, bob, "general", "live", "after the join")
		for want := int64(122); want <= live.Seq; want++ { // ana's join entry, bob's message
			if e := p.next(t, "a live entry", func(e event) bool { return e.IsEntry() }); e.Seq != want {
				t.Fatalf("after the replay: got seq %d, want %d", e.Seq, want)
			}
		}
		rest, err := f.store.Entries(context.Background(), "general", parley.Page{After: 10, Before: 72, Limit: parley.MaxPageSize, Oldest: true})
		if err != nil || len(rest) != 61 || rest[0].Seq != 11 || rest[60].Seq != 71 {
			t.Fatalf("the entries the replay skipped, from the store: %d entries, %v; want 11 to 71", len(rest), err)
		}

		// A join within the cap is replayed whole, and says nothing of it.
		carol, pc := f.connect(t, "carol")
		j = joinedEvent(t, carol, pc, "general", ptr(100))
		if j.ReplayFrom != 0 {
			t.Errorf("join since 100 of %d entries: replayFrom %d, want none", j.LastSeq, j.ReplayFrom)
		}
		checkReplay(t, pc, 100, j.LastSeq)
	})
}

// TestReplayCappedUnderLoad: joins capped by MaxReplay while others send
// get, from replayFrom on, every entry once and in order.
func TestReplayCappedUnderLoad(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{Grace: serverGrace, MaxReplay: 30, ReplayBudget: -1})
		const senders, perSender, joiners = 3, 100, 5
		var wg sync.WaitGroup
		acked := make(chan int64, senders*perSender)
		for i := range senders {
			c, _ := f.connect(t, fmt.Sprint("sender", i))
			mustJoin(t, c, "load", nil)
			wg.Go(func() {
				for j := range perSender {
					e, err := c.Send(context.Background(), "load", fmt.Sprint("m", j), "busy")
					if err != nil {
						t.Errorf("Send() = %v", err)
						return
					}
					acked <- e.Seq
				}
			})
		}
		type joiner struct {
			p    *probe
			from int64
		}
		var js []joiner
		for i := range joiners {
			for range 50 {
				<-acked
			}
			c, p := f.connect(t, fmt.Sprint("joiner", i))
			j := joinedEvent(t, c, p, "load", ptr(0))
			if j.ReplayFrom != j.LastSeq-30 {
				t.Fatalf("join since 0 of %d entries: replayFrom %d, want %d", j.LastSeq, j.ReplayFrom, j.LastSeq-30)
			}
			js = append(js, joiner{p, j.ReplayFrom})
		}
		wg.Wait()
		info, err := f.store.Room(context.Background(), "load")
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range js {
			checkReplay(t, j.p, j.from, info.LastSeq)
		}
	})
}

// TestReplayBudget: a connection that loops join since 0 and leave gets
// at most ReplayBudget entries a window over all its joins, then joins
// with nothing replayed (live entries still come), until the budget fills
// again with time. Another connection has its own.
func TestReplayBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{Grace: serverGrace, MaxReplay: 60, ReplayBudget: 100, ReplayWindow: time.Minute})
		bob, _ := f.connect(t, "bob")
		mustJoin(t, bob, "general", nil)
		for i := range 200 {
			mustSend(t, bob, "general", fmt.Sprint(i), "filling the log")
		}
		ana, p := f.connect(t, "ana")
		loop := func(want int64) {
			t.Helper()
			j := joinedEvent(t, ana, p, "general", ptr(0))
			if j.ReplayFrom != j.LastSeq-want {
				t.Fatalf("join since 0 at %v: joined %+v, want %d entries replayed, from %d", clock(), j, want, j.LastSeq-want)
			}
			checkReplay(t, p, j.ReplayFrom, j.LastSeq)
			if err := ana.Leave(context.Background(), "general"); err != nil {
				t.Fatal(err)
			}
		}
		loop(60) // the cap per join
		loop(40) // what is left of 100
		loop(0)
		loop(0)

		// Nothing replayed, but the room is live.
		j := joinedEvent(t, ana, p, "general", ptr(0))
		if j.ReplayFrom != j.LastSeq {
			t.Fatalf("join with the budget spent: joined %+v, want replayFrom = lastSeq", j)
		}
		mustSend(t, bob, "general", "live", "still live")
		p.next(t, "bob's live message", isMessage("still live"))
		if err := ana.Leave(context.Background(), "general"); err != nil {
			t.Fatal(err)
		}

		carol, pc := f.connect(t, "carol")
		j = joinedEvent(t, carol, pc, "general", ptr(0))
		if j.ReplayFrom != j.LastSeq-60 {
			t.Errorf("another connection's join: joined %+v, want its own budget, 60 entries", j)
		}

		advance(30 * time.Second) // half a window: 50 entries
		loop(50)
		loop(0)
	})
}

// TestLimitRooms: a join that would create a room asks LimitRooms' check
// first; a refusal refuses the join and creates nothing, and joins of
// rooms that exist do not ask.
func TestLimitRooms(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{Grace: serverGrace})
		bob, _ := f.connect(t, "bob")
		mustJoin(t, bob, "existing", nil)
		errLimited := errors.New("no more rooms")
		asked := 0
		ana, _ := f.connect(t, "ana")
		ana.LimitRooms(func(_ context.Context, room string) error {
			asked++
			return errLimited
		})
		if err := ana.Join(context.Background(), "new-room", nil); !errors.Is(err, errLimited) {
			t.Fatalf("Join(new-room) = %v, want the check's error", err)
		}
		if _, err := f.store.Room(context.Background(), "new-room"); parley.KindOf(err) != parley.NotFound {
			t.Errorf("store.Room(new-room) after a refused join = %v, want NotFound", err)
		}
		mustJoin(t, ana, "existing", nil)
		if asked != 1 {
			t.Errorf("the check was asked %d times, want once: only for the room to create", asked)
		}
		// The refused join left nothing behind: she may try again.
		ana.LimitRooms(nil)
		mustJoin(t, ana, "new-room", nil)
	})
}
