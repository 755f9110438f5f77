package postgres

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/pgtest"
)

// These tests drive the writers through their queues: holdWriter keeps a
// writer busy in one transaction while a test queues ops, which are then
// committed together when it lets go. Most use one writer, so that every
// op meets in its queue.

func TestQueuedOpsCommitTogether(t *testing.T) {
	db := mustOpen(t, newDatabase(t), WithWriters(1))
	release := holdWriter(t, db, parley.DefaultRoom)
	w := db.writerFor(parley.DefaultRoom)
	before := w.batches.Load()

	// The second send is a retry of the first, in the same transaction.
	first := queueAppend(t, db, message("ana", "c-1", "hello"))
	retry := queueAppend(t, db, message("ana", "c-1", "hello again"))
	other := queueAppend(t, db, message("bob", "c-1", "hi"))
	joined := queueOp(t, db, "", &op{kind: opJoin, room: parley.DefaultRoom, nick: "ana"})
	rejoined := queueOp(t, db, "", &op{kind: opJoin, room: parley.DefaultRoom, nick: "ana"})
	left := queueOp(t, db, "", &op{kind: opLeave, room: parley.DefaultRoom, nick: "ana"})
	bob := queueOp(t, db, "", &op{kind: opJoin, room: parley.DefaultRoom, nick: "bob"})
	release()

	for _, o := range []*op{first, retry, other, joined, rejoined, left, bob} {
		if err := w.await(t.Context(), o); err != nil {
			t.Fatalf("queued op %+v = %v", o, err)
		}
	}
	if got := w.batches.Load() - before; got != 2 {
		t.Errorf("committed %d transactions, want 2: the held one, then one for all queued ops", got)
	}
	if first.dup || first.out.Seq != 1 {
		t.Errorf("first Append() = dup %v, Seq %d; want false, 1", first.dup, first.out.Seq)
	}
	if !retry.dup || retry.out.Seq != 1 || retry.out.Text != "hello" || !retry.out.At.Equal(first.out.At) {
		t.Errorf("retry in the same transaction = dup %v, %+v; want true and %+v", retry.dup, retry.out, first.out)
	}
	if other.dup || other.out.Seq != 2 {
		t.Errorf("Append(bob's c-1) = dup %v, Seq %d; want false, 2", other.dup, other.out.Seq)
	}
	if joined.changed == nil || joined.changed.Seq != 3 || rejoined.changed != nil || left.changed == nil || left.changed.Seq != 4 || bob.changed.Seq != 5 {
		t.Errorf("Join, Join, Leave of ana, Join of bob in one transaction = %+v, %+v, %+v, %+v; want entries 3, none, 4, 5",
			joined.changed, rejoined.changed, left.changed, bob.changed)
	}
	wantSeqs(t, db, parley.DefaultRoom, 1, 2, 3, 4, 5)
	members, err := db.Members(t.Context())
	if err != nil || fmt.Sprint(members) != fmt.Sprint([]parley.Member{{Room: parley.DefaultRoom, Nick: "bob"}}) {
		t.Errorf("Members() = %v, %v; want bob alone", members, err)
	}
}

func TestFailedTransactionStoresNothing(t *testing.T) {
	db := mustOpen(t, newDatabase(t), WithWriters(1))
	release := holdWriter(t, db, parley.DefaultRoom)
	ok := queueAppend(t, db, message("ana", "c-1", "hello"))
	joined := queueOp(t, db, "", &op{kind: opJoin, room: parley.DefaultRoom, nick: "ana"})
	created := queueOp(t, db, "", &op{kind: opEnsureRoom, room: "new"})
	session := queueOp(t, db, "", &op{kind: opCreateSession, nick: "ana", tokenHash: "hash", ttl: 1e9})
	errFire := errors.New("disk on fire")
	fails := queueOp(t, db, "", &op{kind: opExec, exec: func(context.Context, pgx.Tx) error { return errFire }})
	later := queueAppend(t, db, message("ana", "c-2", "hello"))
	release()

	w := db.writerFor(parley.DefaultRoom)
	for _, o := range []*op{ok, joined, created, session, fails, later} {
		if err := w.await(t.Context(), o); !errors.Is(err, errFire) {
			t.Errorf("op in a failed transaction = %v, want %v", err, errFire)
		}
	}
	wantSeqs(t, db, parley.DefaultRoom)
	if members, err := db.Members(t.Context()); err != nil || len(members) != 0 {
		t.Errorf("Members() after a failed transaction = %v, %v; want none", members, err)
	}
	if _, err := db.Room(t.Context(), "new"); parley.KindOf(err) != parley.NotFound {
		t.Errorf("Room(new) after a failed transaction = %v, want NotFound", err)
	}
	// No number was used up, and the nickname is free.
	if e := mustAppend(t, db, message("ana", "c-1", "hello")); e.Seq != 1 {
		t.Errorf("Append() after a failed transaction set Seq %d, want 1", e.Seq)
	}
	if _, err := db.CreateSession(t.Context(), "ana", 1e9); err != nil {
		t.Errorf("CreateSession(ana) after a failed transaction = %v", err)
	}
}

func TestOpErrorFailsOnlyItsOp(t *testing.T) {
	db := mustOpen(t, newDatabase(t), WithWriters(1))
	release := holdWriter(t, db, parley.DefaultRoom)
	lost := message("ana", "c-1", "hello")
	lost.Room = "nowhere"
	unknown := queueAppend(t, db, lost)
	join := queueOp(t, db, "", &op{kind: opJoin, room: "nowhere", nick: "ana"})
	refused := queueOp(t, db, "", &op{kind: opExec, exec: func(context.Context, pgx.Tx) error {
		return parley.Errorf(parley.Conflict, "No.")
	}})
	ok := queueAppend(t, db, message("ana", "c-2", "hello"))
	release()

	w := db.writerFor(parley.DefaultRoom)
	for _, o := range []*op{unknown, join} {
		if err := w.await(t.Context(), o); parley.KindOf(err) != parley.NotFound {
			t.Errorf("op on an unknown room = %v, want NotFound", err)
		}
	}
	if err := w.await(t.Context(), refused); parley.KindOf(err) != parley.Conflict {
		t.Errorf("op that returned a Conflict = %v, want it", err)
	}
	if err := w.await(t.Context(), ok); err != nil || ok.out.Seq != 1 {
		t.Errorf("Append() beside failed ops = Seq %d, %v; want 1, nil", ok.out.Seq, err)
	}
}

// TestRetry checks that a transaction that PostgreSQL aborts to break a
// deadlock is tried again from the start, and that other failures are not.
func TestRetry(t *testing.T) {
	db := mustOpen(t, newDatabase(t), WithWriters(1))
	w := db.writerFor(parley.DefaultRoom)
	release := holdWriter(t, db, parley.DefaultRoom)
	a := queueAppend(t, db, message("ana", "c-1", "hello"))
	tries := 0
	deadlock := queueOp(t, db, "", &op{kind: opExec, exec: func(context.Context, pgx.Tx) error {
		if tries++; tries == 1 {
			return &pgconn.PgError{Code: "40P01", Message: "deadlock detected"}
		}
		return nil
	}})
	release()
	if err := w.await(t.Context(), deadlock); err != nil || tries != 2 {
		t.Errorf("op whose first try deadlocked = %v after %d tries, want nil after 2", err, tries)
	}
	if err := w.await(t.Context(), a); err != nil || a.out.Seq != 1 || a.dup {
		t.Errorf("Append() in a retried transaction = Seq %d, dup %v, %v; want 1, false, nil", a.out.Seq, a.dup, err)
	}

	tries = 0
	err := db.submit(t.Context(), parley.DefaultRoom, &op{kind: opExec, exec: func(context.Context, pgx.Tx) error {
		tries++
		return &pgconn.PgError{Code: "23505", Message: "unique violation"}
	}})
	if err == nil || tries != 1 {
		t.Errorf("op that failed with a unique violation = %v after %d tries, want an error after 1", err, tries)
	}
	tries = 0
	err = db.submit(t.Context(), parley.DefaultRoom, &op{kind: opExec, exec: func(context.Context, pgx.Tx) error {
		tries++
		return &pgconn.PgError{Code: "40001", Message: "could not serialize access"}
	}})
	if err == nil || tries != maxAttempts {
		t.Errorf("op that always failed to serialize = %v after %d tries, want an error after %d", err, tries, maxAttempts)
	}
	wantSeqs(t, db, parley.DefaultRoom, 1)
}

func TestBatchesAreBounded(t *testing.T) {
	db := mustOpen(t, newDatabase(t), WithWriters(1), func(o *options) { o.maxBatch = 3 })
	w := db.writerFor(parley.DefaultRoom)
	release := holdWriter(t, db, parley.DefaultRoom)
	before := w.batches.Load()
	var queued []*op
	for i := range 7 {
		queued = append(queued, queueAppend(t, db, message("ana", fmt.Sprint(i), "hello")))
	}
	release()
	for i, a := range queued {
		if err := w.await(t.Context(), a); err != nil {
			t.Fatalf("Append(%d) = %v", i, err)
		}
		// The queue is first in, first out.
		if a.out.Seq != int64(i+1) {
			t.Errorf("Append(%d) set Seq %d, want %d", i, a.out.Seq, i+1)
		}
	}
	if got := w.batches.Load() - before; got != 4 {
		t.Errorf("committed %d transactions, want 4: the held one, then 7 ops 3 at a time", got)
	}
}

// TestRoomsCommitInParallel holds the writer of one room in a transaction
// and appends to a room of another writer: that append does not wait.
func TestRoomsCommitInParallel(t *testing.T) {
	db := mustOpen(t, newDatabase(t))
	other := ""
	for i := 0; other == ""; i++ {
		if name := fmt.Sprint("room-", i); db.writerFor(name) != db.writerFor(parley.DefaultRoom) {
			other = name
		}
	}
	if _, err := db.EnsureRoom(t.Context(), other); err != nil {
		t.Fatal(err)
	}
	release := holdWriter(t, db, parley.DefaultRoom)
	held := queueAppend(t, db, message("ana", "c-1", "held"))
	e := message("ana", "c-1", "elsewhere")
	e.Room = other
	if dup, err := db.Append(t.Context(), &e); err != nil || dup || e.Seq != 1 {
		t.Errorf("Append(%q) while the writer of %q is held = Seq %d, %v, %v; want 1, false, nil", other, parley.DefaultRoom, e.Seq, dup, err)
	}
	select {
	case <-held.done:
		t.Errorf("Append(%q) completed while its writer was held", parley.DefaultRoom)
	default:
	}
	release()
	if err := db.writerFor(parley.DefaultRoom).await(t.Context(), held); err != nil || held.out.Seq != 1 {
		t.Errorf("held Append() = Seq %d, %v; want 1, nil", held.out.Seq, err)
	}
}

func TestCancelBeforeTaken(t *testing.T) {
	db := mustOpen(t, newDatabase(t), WithWriters(1))
	release := holdWriter(t, db, parley.DefaultRoom)
	ctx, cancel := context.WithCancel(t.Context())
	ran := false
	o := queueOp(t, db, "", &op{kind: opExec, exec: func(context.Context, pgx.Tx) error {
		ran = true
		return nil
	}})
	cancel()
	w := db.writerFor(parley.DefaultRoom)
	if err := w.await(ctx, o); !errors.Is(err, context.Canceled) {
		t.Errorf("await(cancelled, queued op) = %v, want %v", err, context.Canceled)
	}
	release()
	// Ops run in order, so once a later one ran, o would have.
	if err := db.submit(t.Context(), "", &op{kind: opExec, exec: func(context.Context, pgx.Tx) error { return nil }}); err != nil {
		t.Fatal(err)
	}
	if ran {
		t.Errorf("an op withdrawn by its cancelled caller ran")
	}
}

func TestCancelAfterTaken(t *testing.T) {
	db := mustOpen(t, newDatabase(t), WithWriters(1))
	ctx, cancel := context.WithCancel(t.Context())
	started, release := make(chan struct{}), make(chan struct{})
	o := queueOp(t, db, "", &op{kind: opExec, exec: func(context.Context, pgx.Tx) error {
		close(started)
		<-release
		return nil
	}})
	<-started
	cancel()
	go close(release)
	// The op is in a transaction: it completes, and its caller hears so.
	if err := db.writerFor("").await(ctx, o); err != nil {
		t.Errorf("await(cancelled, op in a transaction) = %v, want nil", err)
	}
}

func TestCloseCommitsQueued(t *testing.T) {
	url := newDatabase(t)
	db := mustOpen(t, url, WithWriters(1))
	release := holdWriter(t, db, parley.DefaultRoom)
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
	for _, q := range []*op{a, b} {
		select {
		case <-q.done:
		default:
			t.Errorf("Close() returned before Append(%s), queued before it, committed", q.in.From)
		}
		if q.err != nil {
			t.Errorf("Append(%s) queued before Close = %v, want nil", q.in.From, q.err)
		}
	}
	db = mustOpen(t, url)
	wantSeqs(t, db, parley.DefaultRoom, 1, 2)
}

func TestClosed(t *testing.T) {
	db := mustOpen(t, newDatabase(t))
	if err := db.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	ctx := t.Context()
	e := message("ana", "c-1", "hello")
	calls := map[string]func() error{
		"Close":         db.Close,
		"Append":        func() error { _, err := db.Append(ctx, &e); return err },
		"EnsureRoom":    func() error { _, err := db.EnsureRoom(ctx, "new"); return err },
		"Room":          func() error { _, err := db.Room(ctx, parley.DefaultRoom); return err },
		"Rooms":         func() error { _, err := db.Rooms(ctx, "", parley.MaxPageSize); return err },
		"Join":          func() error { _, err := db.Join(ctx, parley.DefaultRoom, "ana"); return err },
		"Join nowhere":  func() error { _, err := db.Join(ctx, "bad\xff", "ana"); return err },
		"Leave":         func() error { _, err := db.Leave(ctx, parley.DefaultRoom, "ana"); return err },
		"Members":       func() error { _, err := db.Members(ctx); return err },
		"Entries":       func() error { _, err := db.Entries(ctx, parley.DefaultRoom, parley.Page{Limit: 1}); return err },
		"Ping":          func() error { return db.Ping(ctx) },
		"CreateSession": func() error { _, err := db.CreateSession(ctx, "ana", 1e9); return err },
		"Session":       func() error { _, err := db.Session(ctx, "token"); return err },
		"ExtendSession": func() error { return db.ExtendSession(ctx, "token", 1e9) },
		"EndSession":    func() error { return db.EndSession(ctx, "token") },
		"CreateAccount": func() error {
			return db.CreateAccount(ctx, &parley.Account{Name: "ana", PasswordHash: "$argon2id$x"})
		},
		"Account":                     func() error { _, err := db.Account(ctx, "ana"); return err },
		"Account of a bad name":       func() error { _, err := db.Account(ctx, "bad\xff"); return err },
		"HasAccounts":                 func() error { _, err := db.HasAccounts(ctx); return err },
		"UpdateAccount":               func() error { _, err := db.UpdateAccount(ctx, "ana", parley.AccountUpdate{}); return err },
		"UpdateAccount of a bad name": func() error { _, err := db.UpdateAccount(ctx, "bad\xff", parley.AccountUpdate{}); return err },
		"CreateAccountSession":        func() error { _, err := db.CreateAccountSession(ctx, "ana", parley.SessionToken, "", 1e9); return err },
		"CreateAccountSession of a bad": func() error {
			_, err := db.CreateAccountSession(ctx, "bad\xff", parley.SessionToken, "", 1e9)
			return err
		},
		"AccountSessions":            func() error { _, err := db.AccountSessions(ctx, "ana"); return err },
		"EndAccountSession":          func() error { return db.EndAccountSession(ctx, "ana", "id") },
		"EndAccountSession of a bad": func() error { return db.EndAccountSession(ctx, "bad\xff", "id") },
		"Accounts":                   func() error { _, err := db.Accounts(ctx, "", 1); return err },
		"ImportAccounts":             func() error { return db.ImportAccounts(ctx, nil) },
		"CreateRoom": func() error {
			return db.CreateRoom(ctx, &parley.Room{Name: parley.NewPrivateRoomName(), Kind: parley.RoomPrivate, Owner: "ana"}, nil)
		},
		"Role":                  func() error { _, err := db.Role(ctx, parley.DefaultRoom, "ana"); return err },
		"SetRole":               func() error { return db.SetRole(ctx, "~room", "ana", parley.RoleMember) },
		"SetRole of a bad room": func() error { return db.SetRole(ctx, "bad\xff", "ana", parley.RoleMember) },
		"RoomMembers":           func() error { _, err := db.RoomMembers(ctx, parley.DefaultRoom); return err },
		"VisibleRooms":          func() error { _, err := db.VisibleRooms(ctx, "ana", "", 1); return err },
		"UpdateRoom":            func() error { return db.UpdateRoom(ctx, parley.DefaultRoom, parley.RoomUpdate{}) },
		"UpdateRoom of a bad":   func() error { return db.UpdateRoom(ctx, "bad\xff", parley.RoomUpdate{}) },
		"ImportRoomMembers":     func() error { return db.ImportRoomMembers(ctx, nil) },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ErrClosed) {
			t.Errorf("%s() after Close = %v, want %v", name, err, ErrClosed)
		}
	}
}

// queueAppend queues the append of e, as Append does, without waiting.
func queueAppend(t *testing.T, db *DB, e parley.Entry) *op {
	t.Helper()
	return queueOp(t, db, e.Room, &op{kind: opAppend, room: e.Room, in: e})
}

// queueOp queues o with the writer of key, without waiting.
func queueOp(t *testing.T, db *DB, key string, o *op) *op {
	t.Helper()
	o.done = make(chan struct{})
	if err := db.writerFor(key).enqueue(t.Context(), o); err != nil {
		t.Fatalf("enqueue() = %v", err)
	}
	return o
}

// holdWriter keeps the writer of key busy in a transaction until release
// is called (or the test ends), and returns once the writer is held.
func holdWriter(t *testing.T, db *DB, key string) (release func()) {
	t.Helper()
	held, let := make(chan struct{}), make(chan struct{})
	queueOp(t, db, key, &op{kind: opExec, exec: func(context.Context, pgx.Tx) error {
		close(held)
		<-let
		return nil
	}})
	<-held
	var once sync.Once
	release = func() { once.Do(func() { close(let) }) }
	t.Cleanup(release) // before the DB is closed, which waits for the writer
	return release
}

func message(from, clientID, text string) parley.Entry {
	return parley.Entry{Room: parley.DefaultRoom, Kind: parley.KindMessage, From: from, ClientID: clientID, Text: text}
}

func newDatabase(t *testing.T) string {
	t.Helper()
	return pgtest.NewDatabase(t)
}

func mustOpen(t testing.TB, url string, opts ...Option) *DB {
	t.Helper()
	db, err := Open(t.Context(), url, opts...)
	if err != nil {
		t.Fatalf("Open() = %v", err)
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

func TestCommitObserver(t *testing.T) {
	var mu sync.Mutex
	var sizes []int
	db := mustOpen(t, newDatabase(t), WithWriters(1), WithCommitObserver(func(size int, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		if d <= 0 {
			t.Errorf("observe(%d, %v): want a positive duration", size, d)
		}
		sizes = append(sizes, size)
	}))
	release := holdWriter(t, db, parley.DefaultRoom)
	a := queueAppend(t, db, message("ana", "c-1", "hello"))
	b := queueAppend(t, db, message("ana", "c-2", "hello"))
	release()
	w := db.writerFor(parley.DefaultRoom)
	for _, o := range []*op{a, b} {
		if err := w.await(t.Context(), o); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(sizes) != "[1 2]" {
		t.Errorf("observed commits of %v writes, want [1 2]: the held op, then both appends", sizes)
	}
}
