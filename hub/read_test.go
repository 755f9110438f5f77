package hub

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/protocol"
)

func isRead(room string, seq int64) func(event) bool {
	return func(e event) bool { return e.Type == "read" && e.Room == room && e.Seq == seq }
}

func mustMarkRead(t *testing.T, c *Client, room string, seq int64) {
	t.Helper()
	if err := c.MarkRead(context.Background(), room, seq); err != nil {
		t.Fatalf("%s: MarkRead(%q, %d) = %v", c.Nick(), room, seq, err)
	}
}

// TestMarkRead: a mark is stored, told to the person's other connections
// (whether in the room or not, however their name is written) and to
// nobody else, moves only forward, and comes back in joined.
func TestMarkRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{Grace: serverGrace})
		ctx := context.Background()
		bob, pb := f.connect(t, "bob")
		mustJoin(t, bob, "general", nil)
		tab1, p1 := f.connect(t, "ana")
		mustJoin(t, tab1, "general", nil)
		if e := p1.next(t, "joined", isType("joined")); e.ReadSeq != 0 {
			t.Errorf("joined.readSeq before any mark = %d, want 0", e.ReadSeq)
		}
		tab2, p2 := f.connect(t, "ana")
		mustJoin(t, tab2, "general", nil)
		_, p3 := f.connect(t, "ANA") // in no room
		var last int64
		for i := range 3 {
			last = mustSend(t, bob, "general", string(rune('a'+i)), "hello").Seq
		}

		mustMarkRead(t, tab1, "general", last)
		p2.next(t, "the read event of tab 1's mark", isRead("general", last))
		p3.next(t, "the read event of tab 1's mark", isRead("general", last))
		p1.none(t, "of its own mark", isType("read"))
		pb.none(t, "of ana's mark", isType("read"))
		if got, err := f.store.ReadMarker(ctx, "general", "ana"); err != nil || got != last {
			t.Errorf("ReadMarker() after MarkRead(%d) = %d, %v; want %d", last, got, err, last)
		}

		// What the connection has marked, or was told at join, is not
		// marked again: no store write, no event.
		mustMarkRead(t, tab1, "general", last)
		mustMarkRead(t, tab1, "general", last-1)
		mustMarkRead(t, tab2, "general", 0)
		for _, p := range []*probe{p1, p2, p3} {
			p.none(t, "of a mark that moved nothing", isType("read"))
		}
		// A lower mark from a connection that did not know moves nothing
		// in the store; the others, told of it, keep the highest.
		mustMarkRead(t, tab2, "general", last-1)
		p1.next(t, "the read event of tab 2's lower mark", isRead("general", last-1))
		p3.next(t, "the read event of tab 2's lower mark", isRead("general", last-1))
		if got, _ := f.store.ReadMarker(ctx, "general", "ana"); got != last {
			t.Errorf("ReadMarker() after a lower mark = %d, want %d", got, last)
		}

		tab4, p4 := f.connect(t, "ana")
		mustJoin(t, tab4, "general", nil)
		if e := p4.next(t, "joined", isType("joined")); e.ReadSeq != last || e.LastSeq < last {
			t.Errorf("joined after a mark = %+v, want readSeq %d", e, last)
		}
		mustMarkRead(t, tab4, "general", last) // told at join: nothing to do
		p1.none(t, "of a mark that moved nothing", isType("read"))
	})
}

func TestMarkReadErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{Grace: serverGrace})
		ctx := context.Background()
		ana, _ := f.connect(t, "ana")
		mustJoin(t, ana, "general", nil)
		_, p2 := f.connect(t, "ana")
		seq := mustSend(t, ana, "general", "c-1", "hello").Seq
		tests := []struct {
			room string
			seq  int64
			code string
		}{
			{"elsewhere", 1, protocol.CodeNotJoined},
			{"general", -1, parley.CodeInvalidSeq},
			{"general", seq + 1, parley.CodeInvalidSeq},
		}
		for _, tt := range tests {
			if err := ana.MarkRead(ctx, tt.room, tt.seq); parley.CodeOf(err) != tt.code {
				t.Errorf("MarkRead(%q, %d) = %v, want %s", tt.room, tt.seq, err, tt.code)
			}
		}
		if err := ana.Leave(ctx, "general"); err != nil {
			t.Fatal(err)
		}
		if err := ana.MarkRead(ctx, "general", seq); parley.CodeOf(err) != protocol.CodeNotJoined {
			t.Errorf("MarkRead() after Leave = %v, want not_joined", err)
		}
		p2.none(t, "of a refused mark", isType("read"))
		if got, _ := f.store.ReadMarker(ctx, "general", "ana"); got != 0 {
			t.Errorf("ReadMarker() after refused marks = %d, want 0", got)
		}
	})
}

// failingMarkers is a store whose read markers cannot be read, or
// written.
type failingMarkers struct {
	parley.Store
	read, mark bool
}

var errMarkers = errors.New("markers unavailable")

func (s failingMarkers) ReadMarker(ctx context.Context, room, nick string) (int64, error) {
	if s.read {
		return 0, errMarkers
	}
	return s.Store.ReadMarker(ctx, room, nick)
}

func (s failingMarkers) MarkRead(ctx context.Context, room, nick string, seq int64) error {
	if s.mark {
		return errMarkers
	}
	return s.Store.MarkRead(ctx, room, nick, seq)
}

// TestMarkersFailing: a join whose marker cannot be read fails and changes
// nothing; a mark that cannot be stored tells nobody.
func TestMarkersFailing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{Grace: serverGrace})
		ctx := context.Background()
		ana, pa := f.connect(t, "ana")
		mustJoin(t, ana, "general", nil)
		noRead := startHub(t, failingMarkers{Store: f.store, read: true}, Options{Grace: serverGrace})
		bob, pb := noRead.connect(t, "bob")
		if err := bob.Join(ctx, "general", nil); !errors.Is(err, errMarkers) {
			t.Errorf("Join() when markers cannot be read = %v, want %v", err, errMarkers)
		}
		pb.none(t, "after a failed join", func(event) bool { return true })
		pa.none(t, "of bob", func(e event) bool { return isPresence("bob", true)(e) || e.From == "bob" })
		if _, err := bob.Send(ctx, "general", "c-1", "hello"); parley.CodeOf(err) != protocol.CodeNotJoined {
			t.Errorf("Send() after a failed join = %v, want not_joined", err)
		}

		noMark := startHub(t, failingMarkers{Store: f.store, mark: true}, Options{Grace: serverGrace})
		carol, _ := noMark.connect(t, "carol")
		mustJoin(t, carol, "general", nil)
		_, pc := noMark.connect(t, "carol")
		seq := mustSend(t, carol, "general", "c-1", "hello").Seq
		if err := carol.MarkRead(ctx, "general", seq); !errors.Is(err, errMarkers) {
			t.Errorf("MarkRead() when markers cannot be stored = %v, want %v", err, errMarkers)
		}
		pc.none(t, "of a mark that failed", isType("read"))
	})
}

// TestMarkReadAcrossReplicas: a mark on one replica reaches the person's
// connections on the others; a replica whose broker is cut off still tells
// its own, and stores the mark all the same.
func TestMarkReadAcrossReplicas(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs, bs := replicas(t, 2, nil)
		synctest.Wait() // both replicas subscribed
		ctx := context.Background()
		a, pa := fs[0].connect(t, "ana")
		mustJoin(t, a, "general", nil)
		a2, pa2 := fs[0].connect(t, "ana")
		mustJoin(t, a2, "general", nil)
		b, pb := fs[1].connect(t, "ana")
		mustJoin(t, b, "general", nil)
		_, pc := fs[1].connect(t, "ana") // in no room
		bob, pbob := fs[1].connect(t, "bob")
		mustJoin(t, bob, "general", nil)
		var last int64
		for i := range 3 {
			last = mustSend(t, bob, "general", string(rune('a'+i)), "hello").Seq
		}

		mustMarkRead(t, a, "general", last-2)
		pa2.next(t, "the read event of a mark on this replica", isRead("general", last-2))
		pb.next(t, "the read event of a mark on the other replica", isRead("general", last-2))
		pc.next(t, "the read event of a mark on the other replica", isRead("general", last-2))
		pa.none(t, "of its own mark", isType("read"))
		pbob.none(t, "of ana's mark", isType("read"))

		mustMarkRead(t, b, "general", last-1)
		pa.next(t, "the read event of a mark on the other replica", isRead("general", last-1))
		pa2.next(t, "the read event of a mark on the other replica", isRead("general", last-1))
		pc.next(t, "the read event of a mark on this replica", isRead("general", last-1))
		pb.none(t, "of its own mark", isType("read"))

		bs[0].down.Store(true)
		mustMarkRead(t, a, "general", last)
		pa2.next(t, "the read event of a mark on this replica", isRead("general", last))
		pb.none(t, "of a mark its replica could not hear of", isType("read"))
		if got, err := fs[1].store.ReadMarker(ctx, "general", "ana"); err != nil || got != last {
			t.Errorf("ReadMarker() after a mark while cut off = %d, %v; want %d", got, err, last)
		}

		// Publications that are not news of a mark are ignored.
		bs[1].down.Store(false)
		for _, msg := range [][]byte{nil, []byte("not json")} {
			bs[1].Publish(ctx, readChannel, msg)
		}
		for _, p := range []*probe{pa, pa2, pb, pc} {
			p.none(t, "after a publication that is no news", isType("read"))
		}
	})
}
