package hub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/protocol"
	"github.com/parley-chat/parley/sqlite"
)

// event is any event the hub sends a client, as package protocol decodes it.
type event = protocol.Event

// probe is a client's connection in a test: it decodes every event the hub
// writes or queues, taking the queue as soon as the hub wakes it.
type probe struct {
	c      *Client
	events chan event
	code   chan int      // the close code, once the hub closes the client
	wake   chan struct{} // capacity 1: the hub has called Wake
	// hold, when not nil, keeps Write from returning until it is closed,
	// as a connection that cannot write does.
	hold chan struct{}
}

func newProbe() *probe {
	return &probe{events: make(chan event, 100000), code: make(chan int, 1), wake: make(chan struct{}, 1)}
}

// Write implements Conn.
func (p *probe) Write(_ context.Context, frame []byte) error {
	p.decode(frame)
	if p.hold != nil {
		<-p.hold
	}
	return nil
}

// Wake implements Conn.
func (p *probe) Wake() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *probe) decode(frame []byte) {
	events, err := protocol.DecodeEvents(frame)
	if err != nil {
		panic(fmt.Sprintf("undecodable events: %v", err))
	}
	for _, e := range events {
		p.events <- e
	}
}

// start takes c's queue whenever the hub wakes the probe, until the test
// ends or the hub closes c.
func (p *probe) start(t *testing.T, c *Client) {
	p.c = c
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var frames [][]byte
		for {
			select {
			case <-stop:
				return
			case <-p.wake:
			}
			select {
			case <-c.Done():
				p.code <- c.CloseCode()
				return
			default:
			}
			frames = c.Take(frames)
			for _, f := range frames {
				p.decode(f)
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		<-done
	})
}

// discard is the connection of a client whose queue is never read: it
// throws the replies away.
type discard struct{}

func (discard) Write(context.Context, []byte) error { return nil }
func (discard) Wake()                               {}

// The tests that wait for the hub run in a synctest bubble
// (synctest.Test). The hub's timers run on the bubble's fake clock, which
// moves only when the test sleeps and everything else in the bubble is
// blocked: grace periods, presence intervals, typing limits and gap waits
// are tested at their real lengths, in microseconds, and the tests wait
// for the hub to settle (synctest.Wait), never for a wall clock. An event
// that has not come once the bubble has settled will not come until the
// clock moves, so a test that misses one fails at once, the same on a
// loaded machine as on an idle one.

// serverGrace is the grace period cmd/parley gives by default.
const serverGrace = 15 * time.Second

// advance moves the bubble's clock on by d, running every timer due by
// then in order, and returns once the hub has done all it does by then.
func advance(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

// clock returns how far the bubble's clock has moved, for failure messages.
func clock() time.Duration {
	return time.Since(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)) // where every bubble starts
}

// settle waits until everything else in the bubble is blocked, and reports
// whether events wait to be read.
func (p *probe) settle() bool {
	synctest.Wait()
	return len(p.events) > 0
}

// next returns the next event that match accepts; the events it skips are
// gone. It must run in a bubble. When no event waits, it lets the bubble
// settle, and fails the test if none has come by then.
func (p *probe) next(t *testing.T, what string, match func(event) bool) event {
	t.Helper()
	for {
		select {
		case e := <-p.events:
			if match(e) {
				return e
			}
		default:
			if !p.settle() {
				t.Fatalf("%s: no event %s by %v on the test's clock", p.c.Nick(), what, clock())
				return event{}
			}
		}
	}
}

// all waits, as next does, for an event matching each of matches, in any
// order.
func (p *probe) all(t *testing.T, what string, matches ...func(event) bool) {
	t.Helper()
	for len(matches) > 0 {
		select {
		case e := <-p.events:
			if i := slices.IndexFunc(matches, func(m func(event) bool) bool { return m(e) }); i >= 0 {
				matches = slices.Delete(matches, i, i+1)
			}
		default:
			if !p.settle() {
				t.Fatalf("%s: not all of %s by %v on the test's clock", p.c.Nick(), what, clock())
			}
		}
	}
}

// none lets the bubble settle and fails the test if an event that match
// accepts has come by then. Every event that has come, matched or not, is
// gone.
func (p *probe) none(t *testing.T, what string, match func(event) bool) {
	t.Helper()
	synctest.Wait()
	for {
		select {
		case e := <-p.events:
			if match(e) {
				t.Errorf("%s: got %+v by %v on the test's clock, want no event %s", p.c.Nick(), e, clock(), what)
			}
		default:
			return
		}
	}
}

// closeCode lets the bubble settle and returns the code the hub has closed
// the probe's client with, failing the test if it has not closed it.
func (p *probe) closeCode(t *testing.T) int {
	t.Helper()
	synctest.Wait()
	select {
	case code := <-p.code:
		return code
	default:
		t.Fatalf("%s: not closed by %v on the test's clock", p.c.Nick(), clock())
		return 0
	}
}

// closed lets the bubble settle and reports whether the hub has closed c.
func closed(c *Client) bool {
	synctest.Wait()
	select {
	case <-c.Done():
		return true
	default:
		return false
	}
}

// isPresence matches an event that says nick is online (or offline): an
// online or offline event, or a presence event that names them.
func isPresence(nick string, online bool) func(event) bool {
	return func(e event) bool {
		switch e.Type {
		case "online", "offline":
			return e.Nick == nick && (e.Type == "online") == online
		case "presence":
			return online && slices.Contains(e.Online, nick) || !online && slices.Contains(e.Offline, nick)
		}
		return false
	}
}

// mustDecode decodes a frame the hub queued.
func mustDecode(t *testing.T, frame []byte) []event {
	t.Helper()
	events, err := protocol.DecodeEvents(frame)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func isType(types ...string) func(event) bool {
	return func(e event) bool { return slices.Contains(types, e.Type) }
}

func isMessage(text string) func(event) bool {
	return func(e event) bool { return e.Type == "message" && e.Text == text }
}

type fixture struct {
	store parley.Store
	hub   *Hub
}

// newFixture returns a hub on a fresh SQLite store, running until the test
// ends. Called in a bubble, it opens the store there too, so the store's
// goroutines (its writer, database/sql's) belong to the bubble and end
// with it.
func newFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	return startHub(t, openStore(t), opts)
}

// openStore opens a fresh SQLite store, closed when the test ends. Called
// in a bubble, it opens the store there too.
func openStore(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatalf("sqlite.Open() = %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// addAccounts makes an account for each name in store.
func addAccounts(t *testing.T, store parley.Store, names ...string) {
	t.Helper()
	hash := parley.HashPassword("password", parley.PasswordParams{Memory: 8, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16})
	for _, name := range names {
		if err := store.CreateAccount(context.Background(), &parley.Account{Name: name, PasswordHash: hash}); err != nil {
			t.Fatalf("CreateAccount(%q) = %v", name, err)
		}
	}
}

func startHub(t *testing.T, store parley.Store, opts Options) *fixture {
	t.Helper()
	return startHubOn(t, store, NewLocal(), opts)
}

// startHubOn returns a hub on store and broker, running until the test ends.
func startHubOn(t *testing.T, store parley.Store, broker Broker, opts Options) *fixture {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := New(store, broker, logger, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v, want nil", err)
		}
	})
	return &fixture{store: store, hub: h}
}

// connect connects nick and starts draining the client.
func (f *fixture) connect(t *testing.T, nick string) (*Client, *probe) {
	t.Helper()
	p := newProbe()
	c, err := f.hub.Connect(nick, p)
	if err != nil {
		t.Fatalf("Connect(%q) = %v", nick, err)
	}
	p.start(t, c)
	t.Cleanup(c.Disconnect)
	return c, p
}

func mustJoin(t *testing.T, c *Client, room string, since *int64) {
	t.Helper()
	if err := c.Join(context.Background(), room, since); err != nil {
		t.Fatalf("%s: Join(%q) = %v", c.Nick(), room, err)
	}
}

func mustSend(t *testing.T, c *Client, room, clientID, text string) *parley.Entry {
	t.Helper()
	e, err := c.Send(context.Background(), room, clientID, text)
	if err != nil {
		t.Fatalf("%s: Send(%q, %q) = %v", c.Nick(), room, text, err)
	}
	return e
}

func ptr(n int64) *int64 { return &n }

func TestChatBothWays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{Grace: serverGrace})
		ana, pa := f.connect(t, "ana")
		bob, pb := f.connect(t, "bob")
		mustJoin(t, ana, "general", nil)
		pa.next(t, "joined", isType("joined"))
		mustJoin(t, bob, "general", nil)
		joined := pb.next(t, "joined", isType("joined"))
		if got, want := fmt.Sprint(joined.Online), "[ana bob]"; got != want {
			t.Errorf("joined.online = %s, want %s", got, want)
		}
		advance(defaultPresenceInterval) // bob's online waits for the end of the interval ana's started
		pa.all(t, "bob online and his join entry", isPresence("bob", true), func(e event) bool { return e.Type == "join" && e.From == "bob" })

		sent := mustSend(t, ana, "general", "a-1", "hello bob")
		if sent.Seq == 0 || sent.At.IsZero() {
			t.Errorf("Send() = seq %d at %v, want both set after commit", sent.Seq, sent.At)
		}
		got := pb.next(t, "ana's message", isMessage("hello bob"))
		if got.Seq != sent.Seq || got.From != "ana" || got.ClientID != "a-1" {
			t.Errorf("bob got %+v, want seq %d from ana with clientId a-1", got, sent.Seq)
		}
		// The sender's own connections get the message too.
		pa.next(t, "own message", isMessage("hello bob"))

		if st := f.hub.Stats(); st.Clients != 2 || st.Rooms != 1 || st.Deliveries < 2 {
			t.Errorf("Stats() = %+v, want 2 clients in 1 room and deliveries counted", st)
		}
		reply := mustSend(t, bob, "general", "b-1", "hi ana")
		if reply.Seq != sent.Seq+1 {
			t.Errorf("reply seq = %d, want %d", reply.Seq, sent.Seq+1)
		}
		pa.next(t, "bob's reply", isMessage("hi ana"))
	})
}

func TestSendIsIdempotentPerClientID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{})
		ana, pa := f.connect(t, "ana")
		mustJoin(t, ana, "general", nil)
		first := mustSend(t, ana, "general", "same", "once")
		again := mustSend(t, ana, "general", "same", "once")
		if again.Seq != first.Seq {
			t.Errorf("retried Send() seq = %d, want the original %d", again.Seq, first.Seq)
		}
		pa.next(t, "the message", isMessage("once"))
		entries, err := f.store.Entries(context.Background(), "general", parley.Page{After: first.Seq - 1, Limit: 10})
		if err != nil || len(entries) != 1 {
			t.Fatalf("Entries() = %d entries, %v; want just the one message", len(entries), err)
		}
	})
}

// TestSendQueuesAckFirst checks that the acknowledgement goes into the
// sender's queue ahead of its own copy of the message, so that it never
// waits behind the rest of a fan-out; and that a sender closed meanwhile
// still has its message published to the room.
func TestSendQueuesAckFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{Grace: serverGrace})
		ana, err := f.hub.Connect("ana", discard{}) // its queue is read below
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(ana.Disconnect)
		bob, pb := f.connect(t, "bob")
		mustJoin(t, ana, "general", nil)
		mustJoin(t, bob, "general", nil)
		pb.next(t, "bob's join entry", func(e event) bool { return e.Type == "join" && e.From == "bob" })
		sent, err := ana.Send(context.Background(), "general", "a-1", "hello")
		if err != nil {
			t.Fatal(err)
		}
		pb.next(t, "ana's message", isMessage("hello"))
		var got []string
		for _, frame := range ana.Take(nil) {
			for _, e := range mustDecode(t, frame) {
				got = append(got, fmt.Sprintf("%s %d", e.Type, e.Seq))
			}
		}
		want := fmt.Sprintf("ack %d, message %d", sent.Seq, sent.Seq)
		if n := len(got); n < 2 || strings.Join(got[n-2:], ", ") != want {
			t.Errorf("ana's queue ends %q, want %s", got, want)
		}

		ana.close(protocol.CloseTooSlow)
		if _, err := ana.Send(context.Background(), "general", "a-2", "still"); !errors.Is(err, ErrClosed) {
			t.Errorf("Send() by a closed client = %v, want ErrClosed", err)
		}
		pb.next(t, "the closed sender's message", isMessage("still"))
	})
}

// TestSendWritesAckInLargeRoom checks that in a room with more than
// postAckMembers members here, the ack is written at once rather than
// queued behind the fan-out.
func TestSendWritesAckInLargeRoom(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{Grace: serverGrace})
		w := &writes{frames: make(chan string, 10)}
		ana, err := f.hub.Connect("ana", w)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(ana.Disconnect)
		mustJoin(t, ana, "big", nil)
		for i := range postAckMembers {
			c, err := f.hub.Connect(fmt.Sprintf("m%d", i), discard{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(c.Disconnect)
			mustJoin(t, c, "big", nil)
		}
		sent, err := ana.Send(context.Background(), "big", "a-1", "hello")
		if err != nil {
			t.Fatal(err)
		}
		want := string(protocol.Ack(sent))
		for {
			if got := recvFrame(t, w.frames); got == want {
				break
			}
		}
		for _, frame := range ana.Take(nil) {
			if strings.Contains(string(frame), `"ack"`) {
				t.Errorf("ack queued too: %s", frame)
			}
		}
	})
}

// writes is a connection that records what the hub writes to it at once;
// its queue is read by the test.
type writes struct{ frames chan string }

func (w *writes) Write(_ context.Context, frame []byte) error {
	w.frames <- string(frame)
	return nil
}
func (*writes) Wake() {}

func recvFrame(t *testing.T, ch <-chan string) string {
	t.Helper()
	synctest.Wait()
	select {
	case f := <-ch:
		return f
	default:
		t.Fatalf("no frame written by %v on the test's clock", clock())
		return ""
	}
}

func TestSendErrors(t *testing.T) {
	f := newFixture(t, Options{})
	ana, _ := f.connect(t, "ana")
	mustJoin(t, ana, "general", nil)
	ctx := context.Background()
	tests := []struct {
		name, room, clientID, text, code string
	}{
		{"room not joined", "elsewhere", "c1", "hi", "not_joined"},
		{"blank text", "general", "c2", " \n ", "empty_message"},
		{"too long", "general", "c3", string(bytes.Repeat([]byte("x"), parley.MaxTextBytes+1)), "message_too_long"},
		{"no client id", "general", "", "hi", "invalid_client_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ana.Send(ctx, tt.room, tt.clientID, tt.text)
			if got := parley.CodeOf(err); got != tt.code {
				t.Errorf("Send() = %v (code %s), want code %s", err, got, tt.code)
			}
		})
	}
	rooms, _ := f.store.Rooms(ctx, "", parley.MaxPageSize)
	for _, r := range rooms {
		if r.Name == "general" && r.LastSeq != 1 { // ana's join only
			t.Errorf("general has %d entries after refused sends, want 1", r.LastSeq)
		}
		if r.Name == "elsewhere" {
			t.Errorf("a send to a room not joined created it")
		}
	}
}

func TestJoinErrors(t *testing.T) {
	f := newFixture(t, Options{})
	ana, _ := f.connect(t, "ana")
	mustJoin(t, ana, "general", nil)
	tests := []struct {
		name  string
		room  string
		since *int64
		code  string
	}{
		{"empty name", "", nil, "invalid_room"},
		{"control character", "a\x00b", nil, "invalid_room"},
		{"negative since", "other", ptr(-1), "bad_since"},
		{"since beyond last", "fresh", ptr(5), "bad_since"},
		{"joined already", "general", nil, "already_joined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ana.Join(context.Background(), tt.room, tt.since)
			if got := parley.CodeOf(err); got != tt.code {
				t.Errorf("Join(%q) = %v (code %s), want code %s", tt.room, err, got, tt.code)
			}
		})
	}
	// A refused join changes nothing: the rooms it named were not created.
	for _, name := range []string{"other", "fresh"} {
		if _, err := f.store.Room(context.Background(), name); parley.KindOf(err) != parley.NotFound {
			t.Errorf("Room(%q) after a refused join = %v, want NotFound", name, err)
		}
	}
}

// roomReads counts the reads of a room's newest number.
type roomReads struct {
	parley.Store
	n atomic.Int32
}

func (s *roomReads) Room(ctx context.Context, name string) (*parley.Room, error) {
	s.n.Add(1)
	return s.Store.Room(ctx, name)
}

// readCountingFixture returns a hub on a fresh SQLite store whose reads of
// rooms it counts, and the store itself, to change it behind the hub.
func readCountingFixture(t *testing.T) (*sqlite.DB, *roomReads, *fixture) {
	t.Helper()
	db := openStore(t)
	store := &roomReads{Store: db}
	return db, store, startHub(t, store, Options{})
}

// Joining a room that has members here needs no read of the store when the
// client asks for no more than they were given; beyond that, the store
// decides, since an entry may be committed and not yet delivered here.
func TestJoinActiveRoom(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		db, store, f := readCountingFixture(t)
		ana, pa := f.connect(t, "ana")
		mustJoin(t, ana, "general", nil)
		pa.next(t, "own join", isType("join")) // seq 1, delivered here

		// Committed, as by another replica, but not published: not delivered.
		zoe := &parley.Entry{Room: "general", Kind: parley.KindMessage, From: "zoe", ClientID: "z", Text: "elsewhere"}
		if _, err := db.Append(ctx, zoe); err != nil {
			t.Fatal(err)
		}

		// More tabs of ana's: they append no join entry, so nothing is
		// published and the room stays at seq 1 here.
		tab := func() (*Client, *probe) { return f.connect(t, "ana") }
		before := store.n.Load()
		c, p := tab()
		mustJoin(t, c, "general", ptr(1))
		if j := p.next(t, "joined", isType("joined")); j.LastSeq != 1 {
			t.Errorf("joined = %+v, want lastSeq 1", j)
		}
		c, _ = tab()
		mustJoin(t, c, "general", nil)
		if n := store.n.Load() - before; n != 0 {
			t.Errorf("joins within what was delivered read the room %d times, want 0", n)
		}

		c, p2 := tab()
		mustJoin(t, c, "general", ptr(2)) // committed, so within the log
		c, _ = tab()
		if err := c.Join(ctx, "general", ptr(3)); parley.CodeOf(err) != "bad_since" {
			t.Errorf("Join(since 3) with 2 entries committed = %v, want bad_since", err)
		}
		if n := store.n.Load() - before; n != 2 {
			t.Errorf("joins beyond what was delivered read the room %d times, want 2", n)
		}

		// When zoe's entry is delivered here at last, the tab that resumed
		// after it does not get it again; the others do.
		f.hub.publishEntry(ctx, zoe)
		mustSend(t, ana, "general", "a", "after zoe")
		isEntry := func(e event) bool { return e.IsEntry() }
		if e := p.next(t, "zoe's entry", isEntry); e.Seq != zoe.Seq {
			t.Errorf("tab resumed after 1 got seq %d next, want zoe's %d", e.Seq, zoe.Seq)
		}
		if e := p2.next(t, "the entry after zoe's", isEntry); e.Seq != zoe.Seq+1 {
			t.Errorf("tab resumed after %d got seq %d next, want %d", zoe.Seq, e.Seq, zoe.Seq+1)
		}
	})
}

// A join to a room with no members here reads the room once, after
// subscribing, and creates it in the store when it is new; a refused join
// to a new room leaves nothing behind, in the store or here.
func TestJoinReadsOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		db, store, f := readCountingFixture(t)

		ana, pa := f.connect(t, "ana")
		if err := ana.Join(ctx, "new", ptr(1)); parley.CodeOf(err) != "bad_since" {
			t.Errorf("Join(new room, since 1) = %v, want bad_since", err)
		}
		if _, err := db.Room(ctx, "new"); parley.KindOf(err) != parley.NotFound {
			t.Errorf("after a refused join, Room(new) = %v, want NotFound", err)
		}
		if st := f.hub.Stats(); st.Rooms != 0 {
			t.Errorf("after a refused join, %d rooms here, want 0", st.Rooms)
		}

		before := store.n.Load()
		mustJoin(t, ana, "new", nil)
		if j := pa.next(t, "joined", isType("joined")); j.LastSeq != 0 {
			t.Errorf("joined = %+v, want lastSeq 0", j)
		}
		pa.next(t, "own join entry", isType("join"))
		if _, err := db.Room(ctx, "new"); err != nil {
			t.Errorf("Room(new) after the join = %v", err)
		}
		if n := store.n.Load() - before; n != 1 {
			t.Errorf("a join creating a room read it %d times, want 1", n)
		}

		if _, err := db.EnsureRoom(ctx, "old"); err != nil {
			t.Fatal(err)
		}
		before = store.n.Load()
		mustJoin(t, ana, "old", nil)
		if n := store.n.Load() - before; n != 1 {
			t.Errorf("a join to a room with no members here read it %d times, want 1", n)
		}
	})
}

// TestReplayUnderLoad is the resume guarantee: clients that join with since
// while others keep sending get every entry after since exactly once, in
// order, first from the store and then live.
func TestReplayUnderLoad(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{Grace: serverGrace})
		const senders, perSender, joiners = 4, 150, 6
		const room = "load"

		var wg sync.WaitGroup
		acked := make(chan int64, senders*perSender)
		for i := range senders {
			c, _ := f.connect(t, fmt.Sprintf("sender%d", i))
			mustJoin(t, c, room, nil)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range perSender {
					e, err := c.Send(context.Background(), room, fmt.Sprintf("m%d", j), fmt.Sprintf("%s #%d", c.Nick(), j))
					if err != nil {
						t.Errorf("Send() = %v", err)
						return
					}
					acked <- e.Seq
				}
			}()
		}

		// Joiners arrive while the senders are busy, each resuming from a
		// different point of the log.
		type joiner struct {
			p     *probe
			since int64
		}
		var js []joiner
		for i := range joiners {
			var since int64
			for range 40 {
				since = <-acked
			}
			since -= int64(i * 7) // some replay, of varying length
			c, p := f.connect(t, fmt.Sprintf("joiner%d", i))
			mustJoin(t, c, room, ptr(since))
			js = append(js, joiner{p, since})
		}
		wg.Wait()
		info, err := f.store.Room(context.Background(), room)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range js {
			want := j.since + 1
			for want <= info.LastSeq {
				e := j.p.next(t, fmt.Sprintf("entry %d", want), func(e event) bool { return e.IsEntry() })
				if e.Seq != want {
					t.Fatalf("%s resumed after %d: got seq %d, want %d (gap or duplicate)", j.p.c.Nick(), j.since, e.Seq, want)
				}
				want++
			}
		}
	})
}

// TestQueueBoundCountsBytes: a frame larger than the bound still reaches a
// client with nothing waiting, and a client is closed only when what waits
// would exceed the bound.
func TestQueueBoundCountsBytes(t *testing.T) {
	f := newFixture(t, Options{QueueBytes: 100})
	c, err := f.hub.Connect("ana", discard{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect()
	big, small := bytes.Repeat([]byte("x"), 150), bytes.Repeat([]byte("y"), 40)
	if !c.enqueue(big) {
		t.Fatal("a 150-byte frame to an empty queue bounded at 100 closed the client")
	}
	if got := c.Take(nil); len(got) != 1 || !bytes.Equal(got[0], big) {
		t.Fatalf("Take() = %q, want the one big frame", got)
	}
	// Taken, it no longer counts: 40 + 40 fit, 40 more would not.
	for range 2 {
		if !c.enqueue(small) {
			t.Fatal("80 bytes waiting closed a client bounded at 100")
		}
	}
	if c.enqueue(small) {
		t.Fatal("120 bytes waiting did not close a client bounded at 100")
	}
	if got := c.CloseCode(); got != protocol.CloseTooSlow {
		t.Errorf("CloseCode() = %d, want %d", got, protocol.CloseTooSlow)
	}
}

// TestSlowClientIsClosedAndResumes: a client that never takes its queue
// is closed as too slow once the frames waiting for it would pass the
// default bound, while a client that takes its queue carries on at the
// same bound; the slow one then resumes from the store.
func TestSlowClientIsClosedAndResumes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{Grace: serverGrace}) // the default queue bound
		ctx := context.Background()
		// Only the replies are read, never the live queue.
		slow, err := f.hub.Connect("slow", discard{})
		if err != nil {
			t.Fatal(err)
		}
		if err := slow.Join(ctx, "general", nil); err != nil {
			t.Fatal(err)
		}
		fast, pf := f.connect(t, "fast")
		mustJoin(t, fast, "general", nil)

		// The longest messages pass the bound in about 125 sends. After
		// each, closed lets the bubble settle, so fast has taken its queue.
		text := func(i int) string {
			s := fmt.Sprint("msg ", i, " ")
			return s + strings.Repeat("x", parley.MaxTextBytes-len(s))
		}
		var last *parley.Entry
		for i := 0; ; i++ {
			if i > defaultQueueBytes/parley.MaxTextBytes {
				t.Fatalf("a client that never reads was not closed after %d messages of %d bytes", i, parley.MaxTextBytes)
			}
			queued := slow.queuedBytes()
			last = mustSend(t, fast, "general", fmt.Sprint(i), text(i))
			if closed(slow) {
				if frame := len(protocol.Entry(last)); queued+frame <= defaultQueueBytes {
					t.Errorf("slow client closed with %d bytes waiting and %d to add, within the bound of %d", queued, frame, defaultQueueBytes)
				}
				break
			}
		}
		if got := slow.CloseCode(); got != protocol.CloseTooSlow {
			t.Errorf("CloseCode() = %d, want %d", got, protocol.CloseTooSlow)
		}
		// The room did not wait for the slow client.
		pf.next(t, "the last message", isMessage(last.Text))
		if closed(fast) {
			t.Errorf("the client that takes its queue was closed too, with code %d", fast.CloseCode())
		}
		if st := f.hub.Stats(); st.SlowClosed != 1 {
			t.Errorf("Stats().SlowClosed = %d, want 1", st.SlowClosed)
		}

		// The same person reconnects and resumes from what it had: nothing.
		slow.Disconnect()
		again, pa := f.connect(t, "slow")
		mustJoin(t, again, "general", ptr(0))
		for want := int64(1); want <= last.Seq; want++ {
			e := pa.next(t, fmt.Sprint("entry ", want), func(e event) bool { return e.IsEntry() })
			if e.Seq != want {
				t.Fatalf("resumed client got seq %d, want %d", e.Seq, want)
			}
		}
	})
}

// TestGapIsFilledFromStore covers a lost publication: the room holds the
// later entry back for the gap wait, then reads the missing one from the
// store, and delivers both in order, once.
func TestGapIsFilledFromStore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{}) // the default gap wait
		ctx := context.Background()
		ana, pa := f.connect(t, "ana")
		mustJoin(t, ana, "general", nil)
		pa.next(t, "own join", isType("join"))

		// Two entries are stored, but only the second is published.
		lost := &parley.Entry{Room: "general", Kind: parley.KindMessage, From: "bob", ClientID: "1", Text: "lost"}
		found := &parley.Entry{Room: "general", Kind: parley.KindMessage, From: "bob", ClientID: "2", Text: "found"}
		for _, e := range []*parley.Entry{lost, found} {
			if _, err := f.store.Append(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		f.hub.publishEntry(ctx, found)
		f.hub.publishEntry(ctx, found) // and a duplicate

		// The lost entry might only be late: the room waits for it.
		advance(defaultGapWait - time.Nanosecond)
		pa.none(t, "within the gap wait", func(e event) bool { return e.IsEntry() })
		advance(time.Nanosecond)
		if e := pa.next(t, "the lost entry", func(e event) bool { return e.IsEntry() }); e.Seq != lost.Seq || e.Text != "lost" {
			t.Fatalf("first entry after the gap = %+v, want seq %d 'lost'", e, lost.Seq)
		}
		if e := pa.next(t, "the later entry", func(e event) bool { return e.IsEntry() }); e.Seq != found.Seq {
			t.Fatalf("second entry = seq %d, want %d", e.Seq, found.Seq)
		}
		mustSend(t, ana, "general", "marker", "marker")
		if e := pa.next(t, "the marker", func(e event) bool { return e.IsEntry() }); e.Text != "marker" {
			t.Fatalf("after the gap fill got %+v, want the marker (the duplicate must be dropped)", e)
		}
	})
}

// TestLateEntryFillsItsGap: a publication that comes late, within the gap
// wait, fills the gap it left. The room delivers it and the entry it held
// back in order, and when the wait ends it has nothing to read from the
// store and nothing to deliver again.
func TestLateEntryFillsItsGap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		db := openStore(t)
		store := &pageStore{Store: db} // counts reads of entries; fails none
		f := startHub(t, store, Options{})
		ana, pa := f.connect(t, "ana")
		mustJoin(t, ana, "general", nil)
		isEntry := func(e event) bool { return e.IsEntry() }
		pa.next(t, "own join", isEntry)

		// Committed in one batch, published in the other order.
		early := &parley.Entry{Room: "general", Kind: parley.KindMessage, From: "bob", ClientID: "1", Text: "early"}
		late := &parley.Entry{Room: "general", Kind: parley.KindMessage, From: "bob", ClientID: "2", Text: "late"}
		for _, e := range []*parley.Entry{early, late} {
			if _, err := db.Append(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		f.hub.publishEntry(ctx, late)
		advance(defaultGapWait / 2)
		pa.none(t, "while the gap is open", isEntry)
		reads := store.reads.Load()
		f.hub.publishEntry(ctx, early)
		for _, want := range []*parley.Entry{early, late} {
			if e := pa.next(t, "entry "+want.Text, isEntry); e.Seq != want.Seq {
				t.Fatalf("after the late publication got seq %d, want %d", e.Seq, want.Seq)
			}
		}
		advance(defaultGapWait)
		pa.none(t, "again once the gap wait ends", isEntry)
		if n := store.reads.Load() - reads; n != 0 {
			t.Errorf("the room read entries %d times once its gap was filled, want 0", n)
		}
	})
}

func TestMalformedPublicationIsDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{})
		ana, pa := f.connect(t, "ana")
		mustJoin(t, ana, "general", nil)
		f.hub.broker.Publish(context.Background(), "general", []byte("garbage"))
		mustSend(t, ana, "general", "m", "still works")
		pa.next(t, "a message after the garbage", isMessage("still works"))
	})
}

func TestPresenceAndGrace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{Grace: serverGrace})
		ana, pa := f.connect(t, "ana")
		mustJoin(t, ana, "general", nil)
		bob, _ := f.connect(t, "bob")
		mustJoin(t, bob, "general", nil)
		advance(defaultPresenceInterval) // bob's online waits for the end of the interval ana's started
		pa.next(t, "bob online", isPresence("bob", true))
		if n := f.hub.Online(context.Background(), "general"); n != 2 {
			t.Errorf("Online() = %d, want 2", n)
		}
		bob.Disconnect()
		isLeave := func(e event) bool { return e.Type == "leave" && e.From == "bob" }
		advance(serverGrace - time.Nanosecond)
		pa.none(t, "about bob leaving within the grace", func(e event) bool { return isPresence("bob", false)(e) || isLeave(e) })
		if n := f.hub.Online(context.Background(), "general"); n != 2 {
			t.Errorf("Online() within grace = %d, want 2", n)
		}
		advance(time.Nanosecond)
		pa.all(t, "bob offline and his leave entry", isPresence("bob", false), isLeave)
		if n := f.hub.Online(context.Background(), "general"); n != 1 {
			t.Errorf("Online() after grace = %d, want 1", n)
		}
	})
}

func TestReloadWithinGraceMakesNoNoise(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{Grace: serverGrace})
		ana, pa := f.connect(t, "ana")
		mustJoin(t, ana, "general", nil)
		bob, _ := f.connect(t, "bob")
		mustJoin(t, bob, "general", nil)
		advance(defaultPresenceInterval)
		pa.all(t, "bob's join and online", func(e event) bool { return e.Type == "join" && e.From == "bob" }, isPresence("bob", true))

		bob.Disconnect()
		advance(serverGrace - time.Nanosecond) // a slow reload
		again, _ := f.connect(t, "bob")
		mustJoin(t, again, "general", nil)
		advance(serverGrace) // past the end of the grace the reload cut short
		mustSend(t, again, "general", "b", "back")
		e := pa.next(t, "anything", func(e event) bool { return e.Type != "typing" })
		if e.Type != "message" || e.Text != "back" {
			t.Errorf("after a reload within grace ana got %+v, want only bob's message", e)
		}
	})
}

// heldLeave is a store whose Leave of one person waits until the test
// lets it go on, as a slow commit would; it says on entered when it waits.
type heldLeave struct {
	parley.Store
	nick    string
	entered chan struct{} // capacity 1
	proceed chan struct{}
}

func (s *heldLeave) Leave(ctx context.Context, room, nick string) (*parley.Entry, error) {
	if nick == s.nick {
		s.entered <- struct{}{}
		<-s.proceed
	}
	return s.Store.Leave(ctx, room, nick)
}

// TestGraceEndsOnlyTheLatest: when a person's grace period ends while Run
// is busy, and they come back and go again before Run gets to it, the end
// of the old grace period does not cut the new one short.
func TestGraceEndsOnlyTheLatest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := openStore(t)
		store := &heldLeave{Store: db, nick: "carol", entered: make(chan struct{}, 1), proceed: make(chan struct{})}
		f := startHub(t, store, Options{Grace: serverGrace})
		ana, pa := f.connect(t, "ana")
		mustJoin(t, ana, "general", nil)
		carol, _ := f.connect(t, "carol")
		mustJoin(t, carol, "general", nil)
		bob, _ := f.connect(t, "bob")
		mustJoin(t, bob, "general", nil)
		advance(defaultPresenceInterval)

		carol.Disconnect()
		advance(time.Nanosecond)
		bob.Disconnect()
		advance(serverGrace - time.Nanosecond) // carol's grace ends: Run waits in her Leave
		<-store.entered
		advance(time.Nanosecond) // bob's ends too, and waits for Run
		again, _ := f.connect(t, "bob")
		mustJoin(t, again, "general", nil)
		again.Disconnect() // a new grace period starts
		close(store.proceed)

		isBobLeaving := func(e event) bool { return isPresence("bob", false)(e) || e.Type == "leave" && e.From == "bob" }
		advance(serverGrace - time.Nanosecond)
		pa.none(t, "about bob leaving within his second grace period", isBobLeaving)
		advance(time.Nanosecond)
		pa.all(t, "bob offline and his leave entry", isPresence("bob", false), func(e event) bool { return e.Type == "leave" && e.From == "bob" })
	})
}

func TestExplicitLeave(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{Grace: serverGrace})
		ana, pa := f.connect(t, "ana")
		mustJoin(t, ana, "general", nil)
		bob, _ := f.connect(t, "bob")
		mustJoin(t, bob, "general", nil)
		if err := bob.Leave(context.Background(), "general"); err != nil {
			t.Fatalf("Leave() = %v", err)
		}
		pa.next(t, "bob's leave entry, without waiting for grace", func(e event) bool { return e.Type == "leave" && e.From == "bob" })
		if err := bob.Leave(context.Background(), "general"); parley.CodeOf(err) != "not_joined" {
			t.Errorf("second Leave() = %v, want not_joined", err)
		}
		if _, err := bob.Send(context.Background(), "general", "x", "hi"); parley.CodeOf(err) != "not_joined" {
			t.Errorf("Send() after Leave = %v, want not_joined", err)
		}
	})
}

func TestRoomStateIsReleasedAndRecreated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{})
		ana, _ := f.connect(t, "ana")
		mustJoin(t, ana, "quiet", nil)
		if err := ana.Leave(context.Background(), "quiet"); err != nil {
			t.Fatal(err)
		}
		kept := func() bool {
			f.hub.mu.Lock()
			defer f.hub.mu.Unlock()
			return f.hub.rooms["quiet"] != nil
		}
		// ana's online went out at once, her offline waits for the interval's
		// end: until then the room holds it.
		synctest.Wait()
		if !kept() {
			t.Fatal("a room released its local state with a presence change waiting")
		}
		advance(defaultPresenceInterval) // ana offline; another interval starts
		if !kept() {
			t.Fatal("a room released its local state within a presence interval")
		}
		advance(defaultPresenceInterval) // nothing waits
		if kept() {
			t.Error("a room nobody is in kept its local state")
		}
		mustJoin(t, ana, "quiet", ptr(0))
		bob, pb := f.connect(t, "bob")
		mustJoin(t, bob, "quiet", nil)
		mustSend(t, ana, "quiet", "1", "still delivered")
		pb.next(t, "a message in the recreated room", isMessage("still delivered"))
	})
}

// TestPresenceChangesAreSpaced checks that a room announces the first
// presence change of an interval at once and the others together at its
// end, each as it is then, and nothing before.
func TestPresenceChangesAreSpaced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{}) // no grace: dan goes offline at once
		ana, pa := f.connect(t, "ana")
		mustJoin(t, ana, "general", nil)
		pa.next(t, "ana online, at once", isPresence("ana", true))
		for _, nick := range []string{"bob", "carol", "dan"} {
			c, _ := f.connect(t, nick)
			mustJoin(t, c, "general", nil)
			if nick == "dan" {
				c.Disconnect()
			}
		}
		isAnyPresence := isType("online", "offline", "presence")
		advance(defaultPresenceInterval - time.Nanosecond)
		pa.none(t, "about presence within the interval", isAnyPresence)
		advance(time.Nanosecond)
		e := pa.next(t, "the interval's changes", isAnyPresence)
		if e.Type != "presence" || !slices.Equal(e.Online, []string{"bob", "carol"}) || !slices.Equal(e.Offline, []string{"dan"}) {
			t.Errorf("at the interval's end ana got %+v; want a presence event with online [bob carol], offline [dan]", e)
		}

		// That event started another interval, which ends with nothing to
		// say; the next change goes out at once.
		advance(defaultPresenceInterval)
		pa.none(t, "about presence with nothing changed", isAnyPresence)
		erin, _ := f.connect(t, "erin")
		mustJoin(t, erin, "general", nil)
		pa.next(t, "erin online, at once", isPresence("erin", true))
	})
}

// TestOnePersonManyConnections: the same person in two tabs is online
// once, and stays online while either tab is.
func TestOnePersonManyConnections(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{Grace: serverGrace})
		bob, pb := f.connect(t, "bob")
		mustJoin(t, bob, "general", nil)
		tab1, _ := f.connect(t, "ana")
		mustJoin(t, tab1, "general", nil)
		advance(defaultPresenceInterval)
		pb.next(t, "ana online", isPresence("ana", true))
		tab2, p2 := f.connect(t, "ana")
		mustJoin(t, tab2, "general", nil)
		if n := f.hub.Online(context.Background(), "general"); n != 2 {
			t.Errorf("Online() with ana in two tabs = %d, want 2", n)
		}
		tab1.Disconnect()
		// The next presence news bob gets is carol's, not ana's.
		carol, _ := f.connect(t, "carol")
		mustJoin(t, carol, "general", nil)
		advance(defaultPresenceInterval)
		if e := pb.next(t, "a presence event", isType("online", "offline", "presence")); !isPresence("carol", true)(e) || isPresence("ana", false)(e) {
			t.Errorf("bob got %+v after ana closed one of two tabs, want only carol online", e)
		}
		advance(serverGrace) // long past the grace tab1's end would start, were it her last
		pb.none(t, "about ana leaving while a tab is open", func(e event) bool {
			return isPresence("ana", false)(e) || e.Type == "leave" && e.From == "ana"
		})
		mustSend(t, tab2, "general", "t2", "from the other tab")
		p2.next(t, "her own message", isMessage("from the other tab"))
	})
}

// TestSignOut: a person who signs out is closed everywhere with
// protocol.CloseNormal and leaves their rooms at once, grace or not.
func TestSignOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{Grace: serverGrace})
		bob, pb := f.connect(t, "bob")
		mustJoin(t, bob, "general", nil)
		tab1, p1 := f.connect(t, "ana")
		mustJoin(t, tab1, "general", nil)
		tab2, p2 := f.connect(t, "ANA")
		mustJoin(t, tab2, "general", nil)
		pb.next(t, "ana's join", func(e event) bool { return e.Type == "join" && e.From == "ana" })

		f.hub.SignOut("Ana")
		for _, p := range []*probe{p1, p2} {
			if code := p.closeCode(t); code != protocol.CloseNormal {
				t.Errorf("close code after SignOut = %d, want %d", code, protocol.CloseNormal)
			}
		}
		tab1.Disconnect() // as their readers do
		tab2.Disconnect()
		// ana's offline waits for the presence interval, not for the grace.
		advance(defaultPresenceInterval)
		pb.all(t, "ana offline and her leave entry, without waiting for the grace", isPresence("ana", false),
			func(e event) bool { return e.Type == "leave" && e.From == "ana" })
		if _, err := bob.Send(context.Background(), "general", "b", "still here"); err != nil {
			t.Errorf("bob's Send() after ana signed out = %v", err)
		}
	})
}

// TestEndSessions ends sessions on two replicas that share a broker: the
// connections of the sessions ended close on both, and no other.
func TestEndSessions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := openStore(t)
		broker := NewLocal()
		replicas := []*fixture{startHubOn(t, store, broker, Options{}), startHubOn(t, store, broker, Options{})}
		synctest.Wait() // both replicas subscribed
		type conn struct {
			session string
			probe   *probe
		}
		var conns []conn
		for _, f := range replicas {
			for _, session := range []string{"laptop", "phone", ""} {
				p := newProbe()
				c, err := f.hub.ConnectSession("ana", session, p)
				if err != nil {
					t.Fatal(err)
				}
				p.start(t, c)
				t.Cleanup(c.Disconnect)
				conns = append(conns, conn{session, p})
			}
		}
		if err := replicas[0].hub.EndSessions(context.Background(), "laptop", "unknown"); err != nil {
			t.Fatalf("EndSessions() = %v", err)
		}
		if err := replicas[1].hub.EndSessions(context.Background()); err != nil {
			t.Fatalf("EndSessions() of nothing = %v", err)
		}
		for i, c := range conns {
			if got := closed(c.probe.c); got != (c.session == "laptop") {
				t.Errorf("replica %d, session %q: closed = %v after EndSessions(laptop)", i/3, c.session, got)
			} else if got {
				if code := c.probe.closeCode(t); code != protocol.CloseNormal {
					t.Errorf("replica %d: close code = %d, want %d", i/3, code, protocol.CloseNormal)
				}
			}
		}
		broker.Publish(context.Background(), sessionsChannel, []byte("not json"))
		broker.Publish(context.Background(), sessionsChannel, nil)
		for _, c := range conns {
			if c.session == "phone" && closed(c.probe.c) {
				t.Errorf("a bad publication closed the phone's connection")
			}
		}
	})
}

func TestTypingIsRateLimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{Grace: serverGrace})
		ana, pa := f.connect(t, "ana")
		mustJoin(t, ana, "general", nil)
		bob, pb := f.connect(t, "bob")
		mustJoin(t, bob, "general", nil)
		pa.next(t, "bob's join", func(e event) bool { return e.Type == "join" && e.From == "bob" })
		ctx := context.Background()
		typing := func() {
			t.Helper()
			if err := ana.Typing(ctx, "general"); err != nil {
				t.Fatalf("Typing() = %v", err)
			}
		}
		isAnaTyping := func(e event) bool { return e.Type == "typing" && e.From == "ana" }
		for range 5 {
			typing()
		}
		pb.next(t, "ana typing", isAnaTyping)
		mustSend(t, ana, "general", "m", "done typing")
		e := pb.next(t, "next typing or message", func(e event) bool { return e.Type == "typing" || e.Type == "message" })
		if e.Type != "message" {
			t.Errorf("bob got a second typing notice within %v", TypingInterval)
		}
		if e := pa.next(t, "typing or message", func(e event) bool { return e.Type == "typing" || e.Type == "message" }); e.Type != "message" {
			t.Errorf("ana got her own typing notice: %+v", e)
		}

		// The interval counts from the notice relayed, not from the last
		// one dropped.
		advance(TypingInterval - time.Nanosecond)
		typing()
		pb.none(t, "ana typing, within the interval", isAnaTyping)
		advance(time.Nanosecond)
		typing()
		pb.next(t, "ana typing, once the interval is over", isAnaTyping)

		if err := ana.Typing(ctx, "nowhere"); parley.CodeOf(err) != "not_joined" {
			t.Errorf("Typing() in a room not joined = %v, want not_joined", err)
		}
	})
}

// TestRestartEndsStaleMemberships: members stored before a restart who do
// not come back within the grace period leave their rooms; those who do
// stay.
func TestRestartEndsStaleMemberships(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := openStore(t)
		for _, nick := range []string{"ghost", "back"} {
			if _, err := store.Join(ctx, "general", nick); err != nil {
				t.Fatal(err)
			}
		}
		f := startHub(t, store, Options{Grace: serverGrace})
		ana, pa := f.connect(t, "ana")
		mustJoin(t, ana, "general", nil)
		isLeave := func(e event) bool { return e.Type == "leave" }
		advance(serverGrace - time.Nanosecond)
		pa.none(t, "leave entry within the grace", isLeave)
		back, _ := f.connect(t, "back")
		mustJoin(t, back, "general", nil)
		advance(time.Nanosecond)
		if e := pa.next(t, "the ghost's leave entry", isLeave); e.From != "ghost" {
			t.Errorf("at the end of the grace, leave entry of %s, want only the ghost's", e.From)
		}
		pa.none(t, "leave entry besides the ghost's", isLeave)
	})
}

func TestCloseDisconnectsEveryone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{})
		_, pa := f.connect(t, "ana")
		f.hub.Close()
		if code := pa.closeCode(t); code != protocol.CloseGoingAway {
			t.Errorf("close code = %d, want %d", code, protocol.CloseGoingAway)
		}
		if _, err := f.hub.Connect("bob", discard{}); parley.KindOf(err) != parley.Unavailable {
			t.Errorf("Connect() after Close = %v, want Unavailable", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		defer cancel()
		if err := f.hub.Wait(ctx); err == nil {
			t.Error("Wait() = nil while a client is still connected")
		}
	})
}

// TestLargeRoom: in a room with more than LargeRoom people online,
// memberships change without entries, and joined and presence events say
// how many are online rather than who; the log stays gapless, and the
// notices come back when the room is small again.
func TestLargeRoom(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{LargeRoom: 2}) // no grace: people leave at once
		ctx := context.Background()
		ana, pa := f.connect(t, "ana")
		mustJoin(t, ana, "general", nil)
		bob, _ := f.connect(t, "bob")
		mustJoin(t, bob, "general", nil)
		pa.next(t, "bob's join entry", func(e event) bool { return e.Type == "join" && e.From == "bob" })

		// Carol makes three: the room is large.
		carol, pc := f.connect(t, "carol")
		mustJoin(t, carol, "general", ptr(0))
		joined := pc.next(t, "joined", isType("joined"))
		if joined.Online != nil || joined.OnlineCount != 3 {
			t.Errorf("carol's joined = %+v; want no online list and onlineCount 3", joined)
		}
		advance(defaultPresenceInterval)
		e := pa.next(t, "a presence event", isType("online", "offline", "presence"))
		if e.Type != "presence" || len(e.Online)+len(e.Offline) != 0 || e.OnlineCount != 3 {
			t.Errorf("ana got %+v; want a presence event naming nobody, onlineCount 3", e)
		}
		isMembership := isType("join", "leave")
		pa.none(t, "a join or leave entry in a large room", isMembership)
		msg := mustSend(t, carol, "general", "c-1", "hello")
		if msg.Seq != 3 {
			t.Errorf("carol's message is entry %d, want 3: two joins before it, and no third", msg.Seq)
		}
		if n := f.hub.Online(ctx, "general"); n != 3 {
			t.Errorf("Online() = %d, want 3", n)
		}
		members, err := f.store.Members(ctx)
		if err != nil || len(members) != 3 {
			t.Fatalf("Members() = %v, %v; want ana, bob and carol", members, err)
		}

		// Carol leaves a large room: quietly. Then bob leaves a small one.
		carol.Disconnect()
		advance(defaultPresenceInterval)
		pa.next(t, "carol's message", isMessage("hello"))
		// Small again: the next presence event lists everyone online.
		whole := pa.next(t, "the whole presence", isType("online", "offline", "presence"))
		if whole.Type != "presence" || !slices.Equal(whole.Online, []string{"ana", "bob"}) || !slices.Equal(whole.Offline, []string{"carol"}) || whole.OnlineCount != 2 {
			t.Errorf("ana got %+v; want a presence event with online [ana bob], offline [carol], onlineCount 2", whole)
		}
		pa.none(t, "a leave entry of carol's", isMembership)
		bob.Disconnect()
		leave := pa.next(t, "bob's leave entry", isMembership)
		if leave.Type != "leave" || leave.From != "bob" || leave.Seq != 4 {
			t.Errorf("ana got %+v; want bob's leave, entry 4", leave)
		}
		advance(defaultPresenceInterval)
		pa.next(t, "bob offline", isPresence("bob", false))
		if members, err := f.store.Members(ctx); err != nil || len(members) != 1 {
			t.Errorf("Members() = %v, %v; want ana alone", members, err)
		}
		entries, err := f.store.Entries(ctx, "general", parley.Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for i, e := range entries {
			if e.Seq != int64(i+1) {
				t.Errorf("entry %d has seq %d: a gap", i, e.Seq)
			}
			kinds = append(kinds, string(e.Kind)+" "+e.From)
		}
		if want := []string{"join ana", "join bob", "message carol", "leave bob"}; !slices.Equal(kinds, want) {
			t.Errorf("the log holds %q, want %q", kinds, want)
		}
	})
}
