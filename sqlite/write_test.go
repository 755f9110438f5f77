package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// These tests drive the writer goroutine through its queue: holdWriter keeps
// it busy in one transaction while a test queues ops, which are then
// committed together when it lets go.

func TestQueuedOpsCommitTogether(t *testing.T) {
	db := mustOpen(t, tempPath(t))
	release := holdWriter(t, db)
	before := db.batches.Load()

	// The second send is a retry of the first, in the same transaction.
	first := queueAppend(t, db, message("ana", "c-1", "hello"))
	retry := queueAppend(t, db, message("ana", "c-1", "hello again"))
	other := queueAppend(t, db, message("bob", "c-1", "hi"))
	release()

	for _, a := range []*queuedAppend{first, retry, other} {
		if err := db.await(t.Context(), a.op); err != nil {
			t.Fatalf("queued Append(%s/%s) = %v", a.e.From, a.e.ClientID, err)
		}
	}
	if got := db.batches.Load() - before; got != 2 {
		t.Errorf("committed %d transactions, want 2: the held one, then one for all queued ops", got)
	}
	if first.dup || first.e.Seq != 1 {
		t.Errorf("first Append() = dup %v, Seq %d; want false, 1", first.dup, first.e.Seq)
	}
	if !retry.dup || retry.e.Seq != 1 || retry.e.Text != "hello" || !retry.e.At.Equal(first.e.At) {
		t.Errorf("retry in the same transaction = dup %v, %+v; want true and %+v", retry.dup, retry.e, first.e)
	}
	if other.dup || other.e.Seq != 2 {
		t.Errorf("Append(bob's c-1) = dup %v, Seq %d; want false, 2", other.dup, other.e.Seq)
	}
	wantSeqs(t, db, parley.DefaultRoom, 1, 2)
}

func TestFailedTransactionStoresNothing(t *testing.T) {
	db := mustOpen(t, tempPath(t))
	release := holdWriter(t, db)
	ok := queueAppend(t, db, message("ana", "c-1", "hello"))
	joined := queueOp(t, db, func(ctx context.Context, b *batch) error {
		_, err := b.join(ctx, parley.DefaultRoom, "ana")
		return err
	})
	errFire := errors.New("disk on fire")
	fails := queueOp(t, db, func(context.Context, *batch) error { return errFire })
	later := queueAppend(t, db, message("ana", "c-2", "hello"))
	release()

	for _, o := range []*op{ok.op, joined, fails, later.op} {
		if err := db.await(t.Context(), o); !errors.Is(err, errFire) {
			t.Errorf("op in a failed transaction = %v, want %v", err, errFire)
		}
	}
	wantSeqs(t, db, parley.DefaultRoom)
	members, err := db.Members(t.Context())
	if err != nil || len(members) != 0 {
		t.Errorf("Members() after a failed transaction = %v, %v; want none", members, err)
	}
	// No number was used up.
	e := mustAppend(t, db, message("ana", "c-1", "hello"))
	if e.Seq != 1 {
		t.Errorf("Append() after a failed transaction set Seq %d, want 1", e.Seq)
	}
}

func TestOpErrorFailsOnlyItsOp(t *testing.T) {
	db := mustOpen(t, tempPath(t))
	release := holdWriter(t, db)
	lost := message("ana", "c-1", "hello")
	lost.Room = "nowhere"
	unknown := queueAppend(t, db, lost)
	ok := queueAppend(t, db, message("ana", "c-2", "hello"))
	release()

	if err := db.await(t.Context(), unknown.op); parley.KindOf(err) != parley.NotFound {
		t.Errorf("Append(to unknown room) = %v, want NotFound", err)
	}
	if err := db.await(t.Context(), ok.op); err != nil || ok.e.Seq != 1 {
		t.Errorf("Append() beside a failed op = Seq %d, %v; want 1, nil", ok.e.Seq, err)
	}
}

func TestBatchesAreBounded(t *testing.T) {
	db := mustOpen(t, tempPath(t), func(o *options) { o.maxBatch = 3 })
	release := holdWriter(t, db)
	before := db.batches.Load()
	var queued []*queuedAppend
	for i := range 7 {
		queued = append(queued, queueAppend(t, db, message("ana", fmt.Sprint(i), "hello")))
	}
	release()
	for i, a := range queued {
		if err := db.await(t.Context(), a.op); err != nil {
			t.Fatalf("Append(%d) = %v", i, err)
		}
		// The queue is first in, first out.
		if a.e.Seq != int64(i+1) {
			t.Errorf("Append(%d) set Seq %d, want %d", i, a.e.Seq, i+1)
		}
	}
	if got := db.batches.Load() - before; got != 4 {
		t.Errorf("committed %d transactions, want 4: the held one, then 7 ops 3 at a time", got)
	}
}

func TestCancelBeforeTaken(t *testing.T) {
	db := mustOpen(t, tempPath(t))
	release := holdWriter(t, db)
	ctx, cancel := context.WithCancel(t.Context())
	ran := false
	o := queueOp(t, db, func(context.Context, *batch) error {
		ran = true
		return nil
	})
	cancel()
	if err := db.await(ctx, o); !errors.Is(err, context.Canceled) {
		t.Errorf("await(cancelled, queued op) = %v, want %v", err, context.Canceled)
	}
	release()
	// Ops run in order, so once a later one ran, o would have.
	if err := db.submit(t.Context(), func(context.Context, *batch) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if ran {
		t.Errorf("an op withdrawn by its cancelled caller ran")
	}
}

func TestCancelAfterTaken(t *testing.T) {
	db := mustOpen(t, tempPath(t))
	ctx, cancel := context.WithCancel(t.Context())
	started, release := make(chan struct{}), make(chan struct{})
	e := message("ana", "c-1", "hello")
	o := queueOp(t, db, func(ctx context.Context, b *batch) error {
		close(started)
		<-release
		_, err := b.appendMessage(ctx, &e)
		return err
	})
	<-started
	cancel()
	go close(release)
	// The op is in a transaction: it completes, and its caller hears so.
	if err := db.await(ctx, o); err != nil {
		t.Errorf("await(cancelled, op in a transaction) = %v, want nil", err)
	}
	wantSeqs(t, db, parley.DefaultRoom, 1)
}

func TestCancelledAppend(t *testing.T) {
	db := mustOpen(t, tempPath(t))
	release := holdWriter(t, db)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() {
		e := message("ana", "c-1", "hello")
		_, err := db.Append(ctx, &e)
		done <- err
	}()
	// Whether Append is queued yet or not, it gives up.
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Append(cancelled while the writer is busy) = %v, want %v", err, context.Canceled)
	}
	release()
	wantSeqs(t, db, parley.DefaultRoom)
}

func TestCloseCommitsQueued(t *testing.T) {
	path := tempPath(t)
	db := mustOpen(t, path)
	release := holdWriter(t, db)
	a := queueAppend(t, db, message("ana", "c-1", "hello"))
	b := queueAppend(t, db, message("bob", "c-1", "hello"))
	closed := make(chan error)
	go func() { closed <- db.Close() }()
	// Let the writer go only once Close has begun: Close has nothing to
	// tell the test, so this yields until it refuses new writes.
	for !db.isClosed() {
		runtime.Gosched()
	}
	release()
	if err := <-closed; err != nil {
		t.Fatalf("Close() = %v", err)
	}
	for _, q := range []*queuedAppend{a, b} {
		select {
		case <-q.op.done:
		default:
			t.Errorf("Close() returned before Append(%s), queued before it, committed", q.e.From)
		}
		if err := db.await(t.Context(), q.op); err != nil {
			t.Errorf("Append(%s) queued before Close = %v, want nil", q.e.From, err)
		}
	}

	db = mustOpen(t, path)
	wantSeqs(t, db, parley.DefaultRoom, 1, 2)
}

func TestClosed(t *testing.T) {
	db := mustOpen(t, tempPath(t))
	if err := db.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	ctx := t.Context()
	e := message("ana", "c-1", "hello")
	calls := map[string]func() error{
		"Close":      db.Close,
		"Append":     func() error { _, err := db.Append(ctx, &e); return err },
		"EnsureRoom": func() error { _, err := db.EnsureRoom(ctx, "new"); return err },
		"Room":       func() error { _, err := db.Room(ctx, parley.DefaultRoom); return err },
		"Rooms":      func() error { _, err := db.Rooms(ctx, "", parley.MaxPageSize); return err },
		"Join":       func() error { _, err := db.Join(ctx, parley.DefaultRoom, "ana"); return err },
		"Leave":      func() error { _, err := db.Leave(ctx, parley.DefaultRoom, "ana"); return err },
		"Members":    func() error { _, err := db.Members(ctx); return err },
		"Entries":    func() error { _, err := db.Entries(ctx, parley.DefaultRoom, parley.Page{Limit: 1}); return err },
		"Ping":       func() error { return db.Ping(ctx) },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ErrClosed) {
			t.Errorf("%s() after Close = %v, want %v", name, err, ErrClosed)
		}
	}
}

// queuedAppend is an append queued with queueAppend.
type queuedAppend struct {
	op  *op
	e   parley.Entry // valid once op is done
	dup bool
}

// queueAppend queues the append of e, as Append does, without waiting.
func queueAppend(t *testing.T, db *DB, e parley.Entry) *queuedAppend {
	t.Helper()
	a := &queuedAppend{e: e}
	a.op = queueOp(t, db, func(ctx context.Context, b *batch) error {
		var err error
		a.dup, err = b.appendMessage(ctx, &a.e)
		return err
	})
	return a
}

func queueOp(t *testing.T, db *DB, do func(context.Context, *batch) error) *op {
	t.Helper()
	o := &op{do: do, done: make(chan struct{})}
	if err := db.enqueue(t.Context(), o); err != nil {
		t.Fatalf("enqueue() = %v", err)
	}
	return o
}

// holdWriter keeps the writer goroutine busy in a transaction until release
// is called (or the test ends), and returns once the writer is held.
func holdWriter(t *testing.T, db *DB) (release func()) {
	t.Helper()
	held, let := make(chan struct{}), make(chan struct{})
	queueOp(t, db, func(context.Context, *batch) error {
		close(held)
		<-let
		return nil
	})
	<-held
	var once sync.Once
	release = func() { once.Do(func() { close(let) }) }
	t.Cleanup(release) // before the DB is closed, which waits for the writer
	return release
}

func message(from, clientID, text string) parley.Entry {
	return parley.Entry{Room: parley.DefaultRoom, Kind: parley.KindMessage, From: from, ClientID: clientID, Text: text}
}

func tempPath(t *testing.T) string {
	return filepath.Join(t.TempDir(), "parley.db")
}

func mustOpen(t testing.TB, path string, opts ...Option) *DB {
	t.Helper()
	db, err := Open(t.Context(), path, opts...)
	if err != nil {
		t.Fatalf("Open(%q) = %v", path, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustAppend(t testing.TB, db *DB, e parley.Entry) parley.Entry {
	t.Helper()
	if dup, err := db.Append(t.Context(), &e); err != nil || dup {
		t.Fatalf("Append(%+v) = %v, %v; want false, nil", e, dup, err)
	}
	return e
}

// wantSeqs checks the sequence numbers of room's log.
func wantSeqs(t *testing.T, db *DB, room string, want ...int64) {
	t.Helper()
	entries, err := db.Entries(t.Context(), room, parley.Page{Limit: parley.MaxPageSize})
	if err != nil {
		t.Fatalf("Entries(%q) = %v", room, err)
	}
	var got []int64
	for _, e := range entries {
		got = append(got, e.Seq)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Entries(%q) = %v, want %v", room, got, want)
	}
}

// TestDatabaseFailures breaks the schema under a DB and checks that every
// method reports an Internal error (never NotFound or Invalid, which would
// mislead its caller), and that the writer goes on working once the
// database is repaired.
func TestDatabaseFailures(t *testing.T) {
	path := tempPath(t)
	db := mustOpen(t, path)
	mustAppend(t, db, message("ana", "c-1", "hello"))
	if _, err := db.Join(t.Context(), parley.DefaultRoom, "ana"); err != nil {
		t.Fatal(err)
	}
	other, err := openPool(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	exec := func(query string) {
		t.Helper()
		if _, err := other.ExecContext(t.Context(), query); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	ctx := t.Context()
	e := message("ana", "c-2", "hello")
	token, err := db.CreateSession(ctx, "ana", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateSession(ctx, "gone", -time.Hour); err != nil {
		t.Fatal(err)
	}
	calls := []struct {
		name   string
		damage string
		call   func() error
		fix    string
	}{
		{"Append", `ALTER TABLE entries RENAME TO broken`, func() error { _, err := db.Append(ctx, &e); return err }, `ALTER TABLE broken RENAME TO entries`},
		{"Entries", `ALTER TABLE entries RENAME TO broken`, func() error { _, err := db.Entries(ctx, parley.DefaultRoom, parley.Page{Limit: 1}); return err }, `ALTER TABLE broken RENAME TO entries`},
		{"Join", `ALTER TABLE members RENAME TO broken`, func() error { _, err := db.Join(ctx, parley.DefaultRoom, "bob"); return err }, `ALTER TABLE broken RENAME TO members`},
		{"Leave", `ALTER TABLE members RENAME TO broken`, func() error { _, err := db.Leave(ctx, parley.DefaultRoom, "ana"); return err }, `ALTER TABLE broken RENAME TO members`},
		{"Members", `ALTER TABLE members RENAME TO broken`, func() error { _, err := db.Members(ctx); return err }, `ALTER TABLE broken RENAME TO members`},
		{"Room", `ALTER TABLE rooms RENAME TO broken`, func() error { _, err := db.Room(ctx, parley.DefaultRoom); return err }, `ALTER TABLE broken RENAME TO rooms`},
		{"Rooms", `ALTER TABLE rooms RENAME TO broken`, func() error { _, err := db.Rooms(ctx, "", parley.MaxPageSize); return err }, `ALTER TABLE broken RENAME TO rooms`},
		{"EnsureRoom", `ALTER TABLE rooms RENAME TO broken`, func() error { _, err := db.EnsureRoom(ctx, "new"); return err }, `ALTER TABLE broken RENAME TO rooms`},
		{"Entries of a room", `ALTER TABLE rooms RENAME TO broken`, func() error { _, err := db.Entries(ctx, parley.DefaultRoom, parley.Page{Limit: 1}); return err }, `ALTER TABLE broken RENAME TO rooms`},
		{"Append to a room", `ALTER TABLE rooms RENAME TO broken`, func() error { _, err := db.Append(ctx, &e); return err }, `ALTER TABLE broken RENAME TO rooms`},
		{"EnsureRoom", `CREATE TRIGGER no_rooms BEFORE INSERT ON rooms BEGIN SELECT RAISE(ABORT, 'no'); END`, func() error { _, err := db.EnsureRoom(ctx, "new"); return err }, `DROP TRIGGER no_rooms`},
		{"Append", `CREATE TRIGGER no_entries BEFORE INSERT ON entries BEGIN SELECT RAISE(ABORT, 'no'); END`, func() error { _, err := db.Append(ctx, &e); return err }, `DROP TRIGGER no_entries`},
		{"Append", `CREATE TRIGGER no_updates BEFORE UPDATE ON rooms BEGIN SELECT RAISE(ABORT, 'no'); END`, func() error { _, err := db.Append(ctx, &e); return err }, `DROP TRIGGER no_updates`},
		{"CreateSession", `ALTER TABLE sessions RENAME TO broken`, func() error { _, err := db.CreateSession(ctx, "bob", time.Hour); return err }, `ALTER TABLE broken RENAME TO sessions`},
		{"CreateSession", `CREATE TRIGGER no_sessions BEFORE INSERT ON sessions BEGIN SELECT RAISE(ABORT, 'no'); END`, func() error { _, err := db.CreateSession(ctx, "bob", time.Hour); return err }, `DROP TRIGGER no_sessions`},
		{"CreateSession in place of an expired one", `CREATE TRIGGER keep_sessions BEFORE DELETE ON sessions BEGIN SELECT RAISE(ABORT, 'no'); END`, func() error { _, err := db.CreateSession(ctx, "gone", time.Hour); return err }, `DROP TRIGGER keep_sessions`},
		{"Session", `ALTER TABLE sessions RENAME TO broken`, func() error { _, err := db.Session(ctx, token); return err }, `ALTER TABLE broken RENAME TO sessions`},
		{"ExtendSession", `ALTER TABLE sessions RENAME TO broken`, func() error { return db.ExtendSession(ctx, token, time.Hour) }, `ALTER TABLE broken RENAME TO sessions`},
		{"EndSession", `ALTER TABLE sessions RENAME TO broken`, func() error { return db.EndSession(ctx, token) }, `ALTER TABLE broken RENAME TO sessions`},
	}
	for _, c := range calls {
		exec(c.damage)
		err := c.call()
		exec(c.fix)
		if err == nil || parley.KindOf(err) != parley.Internal {
			t.Errorf("%s() after %s = %v, want an Internal error", c.name, c.damage, err)
		}
	}
	if err := db.Ping(ctx); err != nil {
		t.Errorf("Ping() = %v", err)
	}
	// Nothing of the failed writes was stored, and the writer still works.
	if e := mustAppend(t, db, message("ana", "c-2", "hello")); e.Seq != 3 {
		t.Errorf("Append() after the failures set Seq %d, want 3", e.Seq)
	}
	if _, err := db.Room(ctx, "new"); parley.KindOf(err) != parley.NotFound {
		t.Errorf("Room(%q) = %v, want NotFound", "new", err)
	}
	if got, err := db.Session(ctx, token); err != nil || got.Nick != "ana" {
		t.Errorf("Session() after the failures = %+v, %v; want ana's session, unchanged", got, err)
	}
	if _, err := db.CreateSession(ctx, "bob", time.Hour); err != nil {
		t.Errorf("CreateSession(bob) after the failures = %v, want a session: none was stored", err)
	}
}

// TestUnpreparedQuery checks that the writer runs a query that Open did not
// prepare (one missing from writeQueries) all the same.
func TestUnpreparedQuery(t *testing.T) {
	db := mustOpen(t, tempPath(t))
	mustAppend(t, db, message("ana", "c-1", "hello"))
	var n int
	err := db.submit(t.Context(), func(ctx context.Context, b *batch) error {
		if _, err := b.exec(ctx, `UPDATE entries SET text = 'edited' WHERE seq = ?`, 1); err != nil {
			return err
		}
		return b.queryRow(ctx, []any{&n}, `SELECT count(*) FROM entries WHERE text = 'edited'`)
	})
	if err != nil || n != 1 {
		t.Errorf("unprepared queries = %d, %v; want 1, nil", n, err)
	}
}

// TestCommitObserver: metrics see every committed transaction with the
// number of writes it carried.
func TestCommitObserver(t *testing.T) {
	var mu sync.Mutex
	var sizes []int
	db := mustOpen(t, tempPath(t), WithCommitObserver(func(size int, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		if d <= 0 {
			t.Errorf("observed a commit that took %v", d)
		}
		sizes = append(sizes, size)
	}))
	release := holdWriter(t, db)
	queued := []*queuedAppend{
		queueAppend(t, db, message("ana", "1", "one")),
		queueAppend(t, db, message("ana", "2", "two")),
		queueAppend(t, db, message("bob", "1", "three")),
	}
	release()
	for _, a := range queued {
		if err := db.await(t.Context(), a.op); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if got := fmt.Sprint(sizes); got != "[1 3]" {
		t.Errorf("observed batch sizes %s, want [1 3]: the held op alone, then the three queued", got)
	}
}

// TestFailedTransactionKeepsNumbering: a room the writer has committed to
// before is numbered on from its last committed entry after a failed
// transaction, not from the numbers the failed one used.
func TestFailedTransactionKeepsNumbering(t *testing.T) {
	db := mustOpen(t, tempPath(t))
	if e := mustAppend(t, db, message("ana", "c-0", "committed")); e.Seq != 1 {
		t.Fatalf("first Append() set Seq %d, want 1", e.Seq)
	}
	release := holdWriter(t, db)
	lost := queueAppend(t, db, message("ana", "c-1", "rolled back"))
	errFire := errors.New("disk on fire")
	fails := queueOp(t, db, func(context.Context, *batch) error { return errFire })
	release()
	for _, o := range []*op{lost.op, fails} {
		if err := db.await(t.Context(), o); !errors.Is(err, errFire) {
			t.Fatalf("op in a failed transaction = %v, want %v", err, errFire)
		}
	}
	if e := mustAppend(t, db, message("ana", "c-2", "after")); e.Seq != 2 {
		t.Errorf("Append() after a failed transaction set Seq %d, want 2", e.Seq)
	}
	wantSeqs(t, db, parley.DefaultRoom, 1, 2)
}

// TestRoomCacheIsBounded: the writer remembers the rooms used lately, no
// more than twice its bound, and a room it uses again stays remembered.
func TestRoomCacheIsBounded(t *testing.T) {
	c := newRoomCache(4)
	keep := &roomState{id: 1}
	c.put("keep", keep)
	for i := range 20 {
		c.put(fmt.Sprint("room", i), &roomState{id: int64(i + 2)})
		if c.get("keep") != keep {
			t.Fatalf("after %d more rooms, a room used every time was forgotten", i+1)
		}
		if n := len(c.current) + len(c.older); n > 8 {
			t.Fatalf("after %d rooms the cache holds %d, want at most 8", i+2, n)
		}
	}
	if c.get("room0") != nil {
		t.Error("the first of 20 rooms used once is still remembered")
	}
	if r := c.get("room19"); r == nil || r.id != 21 {
		t.Errorf("get(last room) = %+v, want its state", r)
	}
}

// TestNumberingSurvivesForgetting: a room the writer has forgotten is read
// again, so its numbering goes on without gaps or repeats.
func TestNumberingSurvivesForgetting(t *testing.T) {
	db := mustOpen(t, tempPath(t))
	db.known = newRoomCache(2) // before any write: the writer has not read it yet
	ctx := t.Context()
	rooms := []string{"a", "b", "c", "d", "e"}
	for _, name := range rooms {
		if _, err := db.EnsureRoom(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 4 {
		for _, name := range rooms {
			e := &parley.Entry{Room: name, Kind: parley.KindMessage, From: "ana", Text: "hi", ClientID: fmt.Sprint(name, i)}
			if _, err := db.Append(ctx, e); err != nil {
				t.Fatal(err)
			}
			if want := int64(i + 1); e.Seq != want {
				t.Fatalf("message %d in %q got seq %d, want %d", i+1, name, e.Seq, want)
			}
		}
	}
}

// TestPingAfterFailedWrite: a store whose writes fail (here a trigger
// stands in for a full disk) is not ready, though it reads; it is ready
// again once it can write.
func TestPingAfterFailedWrite(t *testing.T) {
	path := tempPath(t)
	db := mustOpen(t, path)
	ctx := t.Context()
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping() = %v", err)
	}
	other, err := openPool(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.ExecContext(ctx, `CREATE TRIGGER full BEFORE UPDATE ON rooms BEGIN SELECT RAISE(ABORT, 'disk full'); END`); err != nil {
		t.Fatal(err)
	}
	e := message("ana", "c-1", "hello")
	if _, err := db.Append(ctx, &e); err == nil {
		t.Fatal("Append() = nil with writes failing")
	}
	if _, err := db.Room(ctx, parley.DefaultRoom); err != nil {
		t.Fatalf("Room() = %v: reads still work", err)
	}
	if err := db.Ping(ctx); err == nil {
		t.Error("Ping() = nil while every write fails, want an error")
	}
	if _, err := other.ExecContext(ctx, `DROP TRIGGER full`); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(ctx); err != nil {
		t.Errorf("Ping() = %v once writes work again, want nil", err)
	}
	if e := mustAppend(t, db, message("ana", "c-1", "hello")); e.Seq != 1 {
		t.Errorf("Append() after the failure = seq %d, want 1", e.Seq)
	}
}
