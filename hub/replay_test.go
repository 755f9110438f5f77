package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/protocol"
)

// TestLiveEntriesWaitForTheReplay pins down the interleaving that the load
// test only hits by chance: entries committed while a joiner's replay is
// still being written reach it after the replay, once each, in order.
func TestLiveEntriesWaitForTheReplay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{Grace: serverGrace})
		ctx := context.Background()
		bob, _ := f.connect(t, "bob")
		mustJoin(t, bob, "general", nil)
		for i := range 3 {
			mustSend(t, bob, "general", fmt.Sprint("old", i), "old")
		}

		p := newProbe()
		p.hold = make(chan struct{})
		ana, err := f.hub.Connect("ana", p)
		if err != nil {
			t.Fatal(err)
		}
		p.start(t, ana)
		t.Cleanup(ana.Disconnect)
		joinErr := make(chan error, 1)
		go func() { joinErr <- ana.Join(ctx, "general", ptr(0)) }()

		// Receiving joined proves the subscription exists; the replay is now
		// blocked until the connection has written joined.
		joined := p.next(t, "joined", isType("joined"))
		for i := range 3 {
			mustSend(t, bob, "general", fmt.Sprint("new", i), "new")
		}
		close(p.hold)

		// The replay, then ana's own join entry (stored before joined was
		// sent, so right after everything the replay covers), then the
		// messages sent during the replay.
		for want := int64(1); want <= joined.LastSeq+4; want++ {
			e := p.next(t, fmt.Sprint("entry ", want), func(e event) bool { return e.IsEntry() })
			if e.Seq != want {
				t.Fatalf("got seq %d, want %d", e.Seq, want)
			}
			switch {
			case e.Seq == joined.LastSeq+1 && (e.Type != "join" || e.From != "ana"):
				t.Errorf("entry %d = %+v, want ana's join", e.Seq, e)
			case e.Seq > joined.LastSeq+1 && e.Text != "new":
				t.Errorf("entry %d = %q, want one of the messages sent during the replay", e.Seq, e.Text)
			}
		}
		if err := <-joinErr; err != nil {
			t.Fatalf("Join() = %v", err)
		}
	})
}

func TestBacklogOverflowClosesClient(t *testing.T) {
	f := newFixture(t, Options{})
	c, err := f.hub.Connect("ana", discard{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect()
	s := &sub{replaying: true}
	for seq := int64(1); seq <= maxBacklog; seq++ {
		f.hub.deliverLocked(c, s, pending{seq: seq, frame: []byte("{}")})
	}
	select {
	case <-c.Done():
		t.Fatalf("client closed after %d held entries, want it to hold that many", maxBacklog)
	default:
	}
	f.hub.deliverLocked(c, s, pending{seq: maxBacklog + 1, frame: []byte("{}")})
	if got := c.CloseCode(); got != protocol.CloseTooSlow {
		t.Errorf("CloseCode() = %d, want %d", got, protocol.CloseTooSlow)
	}
}

func TestWaitReturnsOnceClientsAreGone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{})
		c, err := f.hub.Connect("ana", discard{})
		if err != nil {
			t.Fatal(err)
		}
		f.hub.Close()
		<-c.Done()
		c.Disconnect()
		c.Disconnect() // a second call does nothing
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := f.hub.Wait(ctx); err != nil {
			t.Errorf("Wait() = %v, want nil once every client disconnected", err)
		}
	})
}

func TestReplyGivesUp(t *testing.T) {
	f := newFixture(t, Options{})
	c, err := f.hub.Connect("ana", discard{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Reply(ctx, []byte("{}")); err != context.Canceled {
		t.Errorf("Reply() with ctx done = %v, want context.Canceled", err)
	}
	c.Disconnect()
	if err := c.Reply(context.Background(), []byte("{}")); err != ErrClosed {
		t.Errorf("Reply() after Disconnect = %v, want ErrClosed", err)
	}
}

func TestStoreFailureIsReported(t *testing.T) {
	f := newFixture(t, Options{})
	ana, _ := f.connect(t, "ana")
	mustJoin(t, ana, "general", nil)
	f.store.Close()
	_, err := ana.Send(context.Background(), "general", "x", "lost?")
	if err == nil || parley.KindOf(err) != parley.Internal {
		t.Errorf("Send() on a closed store = %v, want an internal error", err)
	}
	if err := ana.Join(context.Background(), "other", nil); err == nil {
		t.Error("Join() on a closed store = nil, want an error")
	}
}

func TestPackUnpack(t *testing.T) {
	for _, seq := range []int64{seqTyping, seqEvent, 1, 1 << 40} {
		got, frame, ok := unpack(pack(seq, []byte(`{"a":1}`)))
		if !ok || got != seq || !bytes.Equal(frame, []byte(`{"a":1}`)) {
			t.Errorf("unpack(pack(%d)) = %d, %q, %v", seq, got, frame, ok)
		}
	}
	for _, bad := range []string{"", " {}", "x {}", "-2 {}", "12"} {
		if _, _, ok := unpack([]byte(bad)); ok {
			t.Errorf("unpack(%q) ok, want refused", bad)
		}
	}
}

// TestReplayFromTheStart covers a resume from since 0 across several replay
// pages: every entry from the first arrives, in order.
func TestReplayFromTheStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{Grace: serverGrace})
		bob, _ := f.connect(t, "bob")
		mustJoin(t, bob, "general", nil)
		const n = 2*replayPage + 50
		for i := range n {
			mustSend(t, bob, "general", fmt.Sprint(i), fmt.Sprint("m", i))
		}
		ana, p := f.connect(t, "ana")
		mustJoin(t, ana, "general", ptr(0))
		for want := int64(1); want <= n+1; want++ { // bob's join and his messages
			if e := p.next(t, fmt.Sprint("entry ", want), func(e event) bool { return e.IsEntry() }); e.Seq != want {
				t.Fatalf("replay from 0 got seq %d, want %d", e.Seq, want)
			}
		}
	})
}

// pageStore fails the fail-th read of entries, counting from one.
type pageStore struct {
	parley.Store
	fail  int32
	reads atomic.Int32
}

var errPage = errors.New("page unreadable")

func (s *pageStore) Entries(ctx context.Context, room string, p parley.Page) ([]*parley.Entry, error) {
	if s.reads.Add(1) == s.fail {
		return nil, errPage
	}
	return s.Store.Entries(ctx, room, p)
}

// failConn is a Conn whose writes fail from the fail-th on, counting from one.
type failConn struct {
	fail   int
	writes int
}

var errWrite = errors.New("connection lost")

func (c *failConn) Write(context.Context, []byte) error {
	c.writes++
	if c.writes >= c.fail {
		return errWrite
	}
	return nil
}

func (c *failConn) Wake() {}

// TestReplayStops: a long replay, which reads its next page while it
// writes one unless maxReadAhead replays do so already, ends at the first
// page that cannot be read or written, with that error, and the room's
// other members carry on.
func TestReplayStops(t *testing.T) {
	f := newFixture(t, Options{Grace: time.Hour})
	bob, _ := f.connect(t, "bob")
	mustJoin(t, bob, "general", nil)
	for i := range 3 * replayPage {
		mustSend(t, bob, "general", fmt.Sprint(i), "filling the log")
	}
	ctx := context.Background()

	for _, ahead := range []bool{true, false} {
		name := "reading ahead"
		if !ahead {
			name = "reading in turn"
		}
		t.Run(name+", write fails", func(t *testing.T) {
			if !ahead {
				takeReadAhead(t, f.hub)
			}
			// Writes: joined, the first page, then the second, which fails.
			for _, fail := range []int{2, 3} {
				ana, err := f.hub.Connect(fmt.Sprint("ana", fail, ahead), &failConn{fail: fail})
				if err != nil {
					t.Fatal(err)
				}
				if err := ana.Join(ctx, "general", ptr(0)); !errors.Is(err, errWrite) {
					t.Errorf("Join() with write %d failing = %v, want %v", fail, err, errWrite)
				}
				ana.Disconnect()
			}
			checkReadAhead(t, f.hub, ahead)
		})
		t.Run(name+", read fails", func(t *testing.T) {
			// Reads of pages: the first by the joiner, the next ones while
			// it writes, or after.
			for _, fail := range []int32{1, 2, 3} {
				store := &pageStore{Store: f.store, fail: fail}
				g := startHub(t, store, Options{Grace: time.Hour})
				if !ahead {
					takeReadAhead(t, g.hub)
				}
				carol, _ := g.connect(t, "carol")
				if err := carol.Join(ctx, "general", ptr(0)); !errors.Is(err, errPage) {
					t.Errorf("Join() with page read %d failing = %v, want %v", fail, err, errPage)
				}
				carol.Disconnect()
				checkReadAhead(t, g.hub, ahead)
			}
		})
		t.Run(name+", all of it", func(t *testing.T) {
			if !ahead {
				takeReadAhead(t, f.hub)
			}
			dan, p := f.connect(t, fmt.Sprint("dan", ahead))
			mustJoin(t, dan, "general", ptr(0))
			// Join returns once the replay is written, so its events wait
			// already; this test runs outside a bubble, where next cannot
			// wait.
			for want := int64(1); want <= 3*replayPage+1; {
				select {
				case e := <-p.events:
					if e.Seq == 0 {
						continue
					}
					if e.Seq != want {
						t.Fatalf("replay from 0 got seq %d, want %d", e.Seq, want)
					}
					want++
				default:
					t.Fatalf("Join() returned before entry %d of its replay was written", want)
				}
			}
			checkReadAhead(t, f.hub, ahead)
		})
	}
	mustSend(t, bob, "general", "after", "still here")
}

// checkReadAhead checks, after a replay has ended, that it has given back
// its read-ahead slot: every slot is free, or, when the test took them all
// (ahead false), none.
func checkReadAhead(t *testing.T, h *Hub, ahead bool) {
	t.Helper()
	want := 0
	if !ahead {
		want = cap(h.readAhead)
	}
	if n := len(h.readAhead); n != want {
		t.Errorf("%d read-ahead slots taken after the replay, want %d", n, want)
	}
}

// takeReadAhead holds every read-ahead slot of h until t ends, so that its
// replays read their pages in turn.
func takeReadAhead(t *testing.T, h *Hub) {
	t.Helper()
	for range cap(h.readAhead) {
		select {
		case h.readAhead <- struct{}{}:
		default:
			t.Fatal("a read-ahead slot is taken, with no replay running")
		}
	}
	t.Cleanup(func() {
		for range cap(h.readAhead) {
			<-h.readAhead
		}
	})
}

// TestReplayPageFrame: a replay page is one message of its entries' frames,
// each exactly as a live delivery encodes it, separated by newlines, with
// none after the last.
func TestReplayPageFrame(t *testing.T) {
	at := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	entries := []*parley.Entry{
		{Room: "general", Seq: 1, Kind: parley.KindJoin, From: "ana", At: at},
		{Room: "general", Seq: 2, Kind: parley.KindMessage, From: "ana", ClientID: "c1", Text: "<b>&amp;</b> \u2028 \"quoted\"\nnext line", At: at},
		{Room: "general", Seq: 3, Kind: parley.KindMessage, From: "bob", ClientID: "c2", Text: "", At: at},
	}
	var want [][]byte
	for _, e := range entries {
		want = append(want, protocol.Entry(e))
	}
	if got := protocol.Entries(entries); !bytes.Equal(got, bytes.Join(want, []byte{'\n'})) {
		t.Errorf("encodeEntries:\n%s\nwant\n%s", got, bytes.Join(want, []byte{'\n'}))
	}
	if got := protocol.Entries(entries[:1]); !bytes.Equal(got, want[0]) {
		t.Errorf("encodeEntries of one entry: %s, want %s", got, want[0])
	}
}

// TestTypingIsDroppedFirst: a receiver whose queue is more than half full
// gets no typing notices, while entries still reach it.
func TestTypingIsDroppedFirst(t *testing.T) {
	f := newFixture(t, Options{QueueBytes: 1024, Grace: time.Hour})
	ctx := context.Background()
	ana, _ := f.connect(t, "ana")
	mustJoin(t, ana, "general", nil)
	// Bob's replies are written; his queue is never taken.
	bob, err := f.hub.Connect("bob", discard{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bob.Disconnect)
	if err := bob.Join(ctx, "general", nil); err != nil {
		t.Fatal(err)
	}
	// A message event is about 150 bytes: past half of 1,024, bob's
	// queue still has room for it.
	for i := 0; bob.queuedBytes() <= 512; i++ {
		if i == 10 {
			t.Fatalf("bob has %d bytes waiting after %d messages, want more than half of 1,024", bob.queuedBytes(), i)
		}
		mustSend(t, ana, "general", fmt.Sprint(i), "filling bob's queue")
	}
	if err := ana.Typing(ctx, "general"); err != nil {
		t.Fatal(err)
	}
	for _, frame := range bob.Take(nil) {
		var e event
		if err := json.Unmarshal(frame, &e); err != nil {
			t.Fatal(err)
		}
		if e.Type == "typing" {
			t.Errorf("bob, more than half full, got %s", frame)
		}
	}
	select {
	case <-bob.Done():
		t.Error("bob was closed; only his typing notice should have been dropped")
	default:
	}
}
