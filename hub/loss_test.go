package hub

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/parley-chat/parley"
)

// The tests of this file run several replicas, each a hub with a broker of
// its own, on one store, and cut the links between their brokers, as a
// Redis outage does: what a broker loses, the hubs recover from the store.

// testNet joins the brokers of test replicas as Redis does.
type testNet struct {
	mu      sync.Mutex
	brokers []*netBroker // guarded by mu
}

// netBroker is one replica's broker on a testNet. Like package redis, it
// delivers a publication to its own replica's subscribers itself, so they
// get it even when its link is down, and through the link to the others.
type netBroker struct {
	net   *testNet
	local *Local
	// down cuts the link: publications neither leave nor reach this
	// replica, and Publish fails.
	down atomic.Bool
}

var errLinkDown = errors.New("link down")

func (n *testNet) broker() *netBroker {
	b := &netBroker{net: n, local: NewLocal()}
	n.mu.Lock()
	n.brokers = append(n.brokers, b)
	n.mu.Unlock()
	return b
}

func (b *netBroker) Publish(ctx context.Context, room string, msg []byte) error {
	b.local.Publish(ctx, room, msg)
	if b.down.Load() {
		return errLinkDown
	}
	b.net.mu.Lock()
	others := b.net.brokers
	b.net.mu.Unlock()
	for _, o := range others {
		if o != b && !o.down.Load() {
			o.local.Publish(ctx, room, msg)
		}
	}
	return nil
}

func (b *netBroker) Subscribe(room string, deliver func([]byte)) func() {
	return b.local.Subscribe(room, deliver)
}

// reconnect restores b's link and tells each of its subscribers that
// publications may have been lost, as package redis does once it has
// subscribed again.
func (b *netBroker) reconnect() {
	b.down.Store(false)
	b.local.mu.RLock()
	var rooms []string
	for room := range b.local.subs {
		rooms = append(rooms, room)
	}
	b.local.mu.RUnlock()
	for _, room := range rooms {
		b.local.Publish(context.Background(), room, nil)
	}
}

// replicas returns n hubs on one fresh store, each with its broker on one
// testNet.
func replicas(t *testing.T, n int, store func(parley.Store) parley.Store) ([]*fixture, []*netBroker) {
	t.Helper()
	db := openStore(t)
	var s parley.Store = db
	if store != nil {
		s = store(db)
	}
	net := new(testNet)
	var fs []*fixture
	var bs []*netBroker
	for range n {
		b := net.broker()
		fs = append(fs, startHubOn(t, s, b, Options{Grace: serverGrace}))
		bs = append(bs, b)
	}
	// Each Run reads the stored members at start, and treats them as just
	// disconnected from its replica: let every one of them do so before
	// anyone joins, or a replica that started late would count a member
	// who joined on another (whose roster it does not share here) as gone.
	synctest.Wait()
	return fs, bs
}

func isEntry(e event) bool { return e.IsEntry() }

// mustGetEntries fails the test unless p's next entries are messages with
// texts, in order, and no other entry follows once the hub has settled.
func mustGetEntries(t *testing.T, p *probe, texts ...string) {
	t.Helper()
	for _, text := range texts {
		if e := p.next(t, "entry "+text, isEntry); e.Type != "message" || e.Text != text {
			t.Fatalf("%s: next entry = %s %q (seq %d), want message %q", p.c.Nick(), e.Type, e.Text, e.Seq, text)
		}
	}
	p.none(t, "entry after "+texts[len(texts)-1], isEntry)
}

// joinBoth joins ana on replica a and bob on replica b to room general, and
// waits until each has seen both joins.
func joinBoth(t *testing.T, a, b *fixture) (ana *Client, pa *probe, bob *Client, pb *probe) {
	t.Helper()
	ana, pa = a.connect(t, "ana")
	bob, pb = b.connect(t, "bob")
	mustJoin(t, ana, "general", nil)
	mustJoin(t, bob, "general", nil)
	for _, p := range []*probe{pa, pb} {
		p.next(t, "bob's join", func(e event) bool { return e.Type == "join" && e.From == "bob" })
		p.none(t, "another entry", isEntry)
	}
	return ana, pa, bob, pb
}

// TestCatchUpAfterReconnect: entries published while a replica's broker was
// cut off reach its clients once the broker says it may have lost some,
// although nothing is published after them; in order, and once.
func TestCatchUpAfterReconnect(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs, bs := replicas(t, 2, nil)
		ana, pa, _, pb := joinBoth(t, fs[0], fs[1])

		bs[1].down.Store(true)
		mustSend(t, ana, "general", "a-1", "one")
		mustSend(t, ana, "general", "a-2", "two")
		mustGetEntries(t, pa, "one", "two")
		advance(time.Hour)
		pb.none(t, "while its broker is cut off", isEntry)

		bs[1].reconnect()
		mustGetEntries(t, pb, "one", "two")
		mustSend(t, ana, "general", "a-3", "three")
		mustGetEntries(t, pb, "three")

		// A signal with nothing missed delivers nothing again.
		bs[1].reconnect()
		advance(time.Hour)
		pb.none(t, "after a catch-up with nothing missed", isEntry)
	})
}

// TestCatchUpReadsOnlyWhatIsMissing: a catch-up with nothing missed reads
// the room's newest number, and no entry.
func TestCatchUpReadsOnlyWhatIsMissing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var pages *pageStore
		var rooms *roomReads
		fs, bs := replicas(t, 1, func(s parley.Store) parley.Store {
			pages = &pageStore{Store: s}
			rooms = &roomReads{Store: pages}
			return rooms
		})
		ana, pa := fs[0].connect(t, "ana")
		mustJoin(t, ana, "general", nil)
		pa.next(t, "own join", isEntry)
		synctest.Wait()
		entryReads, roomsRead := pages.reads.Load(), rooms.n.Load()

		bs[0].reconnect()
		synctest.Wait()
		pa.none(t, "after a catch-up with nothing missed", isEntry)
		if n := pages.reads.Load() - entryReads; n != 0 {
			t.Errorf("catch-up with nothing missed read entries %d times, want 0", n)
		}
		if n := rooms.n.Load() - roomsRead; n != 1 {
			t.Errorf("catch-up read the room %d times, want 1", n)
		}
	})
}

// heldRoom holds back its answer to the first read of a room, made after
// the read, until release is closed.
type heldRoom struct {
	parley.Store
	reading chan struct{} // closed once the first read has read
	release chan struct{}
	once    sync.Once
}

func (s *heldRoom) Room(ctx context.Context, name string) (*parley.Room, error) {
	r, err := s.Store.Room(ctx, name)
	first := false
	s.once.Do(func() { first = true })
	if first {
		close(s.reading)
		<-s.release
	}
	return r, err
}

// TestCatchUpBeforeRoomIsReady: when the broker's signal comes while the
// room is reading its newest number, and an entry was committed and lost
// after that read, the room delivers it once it is ready.
func TestCatchUpBeforeRoomIsReady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		held := &heldRoom{reading: make(chan struct{}), release: make(chan struct{})}
		fs, bs := replicas(t, 1, func(s parley.Store) parley.Store {
			held.Store = s
			return held
		})
		// Ana is a member already, so her join publishes no entry that
		// would show the gap.
		if _, err := held.Store.Join(ctx, "general", "ana"); err != nil {
			t.Fatal(err)
		}
		if _, err := held.Store.Append(ctx, &parley.Entry{Room: "general", Kind: parley.KindMessage, From: "bob", ClientID: "1", Text: "before"}); err != nil {
			t.Fatal(err)
		}
		ana, pa := fs[0].connect(t, "ana")
		joined := make(chan error, 1)
		go func() { joined <- ana.Join(ctx, "general", ptr(0)) }()
		<-held.reading // the room has read its newest number, 2

		// Committed, but its publication is lost.
		if _, err := held.Store.Append(ctx, &parley.Entry{Room: "general", Kind: parley.KindMessage, From: "bob", ClientID: "2", Text: "lost"}); err != nil {
			t.Fatal(err)
		}
		bs[0].reconnect()
		synctest.Wait()
		close(held.release)
		if err := <-joined; err != nil {
			t.Fatalf("Join() = %v", err)
		}
		advance(defaultGapWait)
		pa.next(t, "before", func(e event) bool { return e.Text == "before" })
		mustGetEntries(t, pa, "lost")
	})
}

// TestCatchUpRetriesAfterStoreError: a catch-up whose read of the room
// fails tries again after the gap wait.
func TestCatchUpRetriesAfterStoreError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		var store *failingRoom
		fs, bs := replicas(t, 1, func(s parley.Store) parley.Store {
			store = &failingRoom{Store: s}
			return store
		})
		ana, pa := fs[0].connect(t, "ana")
		mustJoin(t, ana, "general", nil)
		pa.next(t, "own join", isEntry)
		if _, err := store.Append(ctx, &parley.Entry{Room: "general", Kind: parley.KindMessage, From: "bob", ClientID: "1", Text: "lost"}); err != nil {
			t.Fatal(err)
		}
		store.fail.Store(true)
		bs[0].reconnect()
		advance(defaultGapWait - time.Nanosecond)
		pa.none(t, "while the store fails", isEntry)
		store.fail.Store(false)
		advance(time.Nanosecond)
		mustGetEntries(t, pa, "lost")
	})
}

// failingRoom fails reads of rooms while fail is set.
type failingRoom struct {
	parley.Store
	fail atomic.Bool
}

var errRoomRead = errors.New("room unreadable")

func (s *failingRoom) Room(ctx context.Context, name string) (*parley.Room, error) {
	if s.fail.Load() {
		return nil, errRoomRead
	}
	return s.Store.Room(ctx, name)
}

// TestCatchUpOfRoomNotStored: a signal for a room that the store does not
// have yet delivers nothing.
func TestCatchUpOfRoomNotStored(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs, bs := replicas(t, 1, nil)
		r, err := fs[0].hub.acquire(context.Background(), "nowhere")
		if err != nil {
			t.Fatal(err)
		}
		bs[0].reconnect()
		synctest.Wait()
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.delivered != 0 || r.known != 0 || len(r.pending) != 0 {
			t.Errorf("after a catch-up of a room not stored: delivered %d, known %d, %d pending; want 0, 0, 0", r.delivered, r.known, len(r.pending))
		}
	})
}

// TestFailedPublishIsRepublished: a send whose publication fails succeeds,
// reaches the sender's replica, and reaches the others once the broker
// publishes again, with the entries before it that failed too.
func TestFailedPublishIsRepublished(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs, bs := replicas(t, 2, nil)
		ana, pa, _, pb := joinBoth(t, fs[0], fs[1])

		bs[0].down.Store(true)
		mustSend(t, ana, "general", "a-1", "one")
		mustSend(t, ana, "general", "a-2", "two")
		mustGetEntries(t, pa, "one", "two")
		advance(republishWait)
		pb.none(t, "while the sender's broker is cut off", isEntry)

		// Two is published again, and one read from the store as the gap
		// before it.
		bs[0].down.Store(false)
		advance(republishWait)
		advance(defaultGapWait)
		mustGetEntries(t, pb, "one", "two")
		pa.none(t, "again", isEntry)
		advance(time.Hour)
		pb.none(t, "again", isEntry)

		mustSend(t, ana, "general", "a-3", "three")
		mustGetEntries(t, pb, "three")
	})
}
