// Package sqlite implements parley.Store on an embedded SQLite database, the
// store of a single Parley replica. It uses the pure-Go driver
// modernc.org/sqlite through database/sql, so the binary needs no C
// toolchain.
//
// A DB keeps two connection pools on one database file in WAL mode: several
// read-only connections for history and room look-ups, and a single write
// connection owned by one writer goroutine. Appends, joins, leaves, room
// creations and session changes are queued for that goroutine, which commits whatever is queued
// (up to a bound) in one transaction: group commit. Each call returns only
// after its transaction has committed, so a message is durable when it is
// acknowledged, and one disk flush serves every message of the batch.
//
// It owns the SQL and the schema (migrations/*.sql, embedded) and nothing
// else: it knows no HTTP, hub or protocol, and everything it returns is a
// domain type or a *parley.Error. Package storetest holds the contract this
// package is tested against.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley"
	_ "modernc.org/sqlite" // Registers the "sqlite" database/sql driver.
)

// ErrClosed is returned by every method of a DB after Close.
var ErrClosed = errors.New("sqlite: store is closed")

// maxBatch bounds the number of writes committed in one transaction, so one
// batch never holds the write lock for long (tens of milliseconds at most).
// It is high enough to take every waiting client's append at once under
// load: the larger the batch, the more of its appends share the index
// pages it rewrites.
const maxBatch = 2048

// busyTimeout is how long a connection waits for a lock held by another
// process (such as `parley migrate` or a backup) before failing.
const busyTimeout = 5 * time.Second

var _ parley.Store = (*DB)(nil)

// DB is a parley.Store on one SQLite database file. It is safe for
// concurrent use. Open starts its writer goroutine; Close stops it.
type DB struct {
	read      *sql.DB                         // read-only pool; static after Open
	write     *sql.DB                         // one connection, used by the writer goroutine only after Open
	prepared  map[string]*sql.Stmt            // writeQueries prepared on write, by query; static after Open
	readStmts map[string]*sql.Stmt            // readQueries prepared on read, by query; static after Open
	now       func() time.Time                // static after Open
	maxBatch  int                             // static after Open
	observe   func(size int, d time.Duration) // static after Open

	// known remembers the committed state of the rooms the writer has
	// used lately; owned by the writer goroutine.
	known *roomCache

	wake    chan struct{} // capacity 1: tells the writer that pending or closed changed
	stopped chan struct{} // closed when the writer goroutine has returned

	mu      sync.Mutex
	pending []*op // guarded by mu; writes waiting for the writer, oldest first
	closed  bool  // guarded by mu; set by Close, after which nothing is queued

	// writeFailed is set when the last transaction failed as a whole (a
	// full disk, say), and cleared by the next that commits.
	writeFailed atomic.Bool

	batches atomic.Int64 // committed transactions, for benchmarks
	ops     atomic.Int64 // writes in committed transactions, for benchmarks
}

// An Option changes how Open sets up a DB.
type Option func(*options)

type options struct {
	now      func() time.Time
	maxBatch int
	observe  func(size int, d time.Duration)
}

// WithCommitObserver makes the DB call observe after each committed
// transaction with the number of writes it held and the time it took, for
// metrics. observe runs on the writer goroutine and must be quick.
func WithCommitObserver(observe func(size int, d time.Duration)) Option {
	return func(o *options) { o.observe = observe }
}

// WithNow makes the DB stamp rooms and entries with the time now returns
// instead of time.Now. Tests use it to control time.
func WithNow(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// Open opens the SQLite database at path, creating the file if needed,
// brings its schema up to date, and makes sure the room parley.DefaultRoom
// exists. The caller must Close the DB.
//
// path names a file, not ":memory:" or a URI; SQLite keeps path-wal and
// path-shm beside it.
func Open(ctx context.Context, path string, opts ...Option) (*DB, error) {
	o := options{now: time.Now, maxBatch: maxBatch, observe: func(int, time.Duration) {}}
	for _, opt := range opts {
		opt(&o)
	}
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, ":memory:") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("open sqlite: %q is not a database file name", path)
	}

	// synchronous=FULL makes SQLite flush the WAL to disk at every commit.
	// NORMAL, the usual choice with WAL, survives a crash of the process
	// but may lose the last transactions when the machine loses power,
	// and those would be messages we had acknowledged. Group commit pays
	// for one flush per batch, not per message, so FULL costs little.
	write, err := openPool(ctx, path,
		"_txlock=immediate", // take the write lock at BEGIN, so a batch never fails half-way on a busy lock
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(FULL)",
		"_pragma=foreign_keys(ON)",
		// The writer touches index pages all over the file when appends
		// spread over many rooms; with SQLite's default 2 MB cache it read
		// them back from the file for every batch.
		"_pragma=cache_size(-16384)",
		// Checkpoint when the WAL holds 8,192 pages (32 MB), not SQLite's
		// default 1,000: appends spread over many rooms dirty the same
		// index pages in batch after batch, and a checkpoint copies each
		// page once, however many batches rewrote it.
		"_pragma=wal_autocheckpoint(8192)",
	)
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)

	if err := checkWAL(ctx, write); err != nil {
		write.Close()
		return nil, err
	}
	if err := migrate(ctx, write, o.now()); err != nil {
		write.Close()
		return nil, err
	}

	prepared, err := prepare(ctx, write, writeQueries)
	if err != nil {
		write.Close()
		return nil, err
	}

	read, err := openPool(ctx, path, "_pragma=query_only(ON)")
	if err != nil {
		write.Close()
		return nil, err
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	readStmts, err := prepare(ctx, read, readQueries)
	if err != nil {
		read.Close()
		write.Close()
		return nil, err
	}

	db := &DB{
		read:      read,
		write:     write,
		prepared:  prepared,
		readStmts: readStmts,
		now:       o.now,
		maxBatch:  o.maxBatch,
		observe:   o.observe,
		known:     newRoomCache(maxKnownRooms),
		wake:      make(chan struct{}, 1),
		stopped:   make(chan struct{}),
	}
	go db.run()
	return db, nil
}

// prepare prepares queries on pool and returns them by query.
func prepare(ctx context.Context, pool *sql.DB, queries []string) (map[string]*sql.Stmt, error) {
	stmts := make(map[string]*sql.Stmt, len(queries))
	for _, query := range queries {
		s, err := pool.PrepareContext(ctx, query)
		if err != nil {
			return nil, fmt.Errorf("prepare %s: %w", query, err)
		}
		stmts[query] = s
	}
	return stmts, nil
}

// openPool returns a pool of connections to path with the given DSN
// parameters, and checks that it can connect.
func openPool(ctx context.Context, path string, params ...string) (*sql.DB, error) {
	params = append([]string{"_pragma=busy_timeout(" + fmt.Sprint(busyTimeout.Milliseconds()) + ")"}, params...)
	pool, err := sql.Open("sqlite", path+"?"+strings.Join(params, "&"))
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// The driver connects lazily; connect now so a bad path fails Open.
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return pool, nil
}

// checkWAL reports an error when the database did not switch to WAL mode,
// which happens on file systems without shared memory.
func checkWAL(ctx context.Context, write *sql.DB) error {
	var mode string
	if err := write.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return fmt.Errorf("read journal mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("sqlite journal mode is %q, want wal", mode)
	}
	return nil
}

// Close stops accepting writes, waits for the queued ones to commit, and
// closes the database. Every call after Close, Close included, returns
// ErrClosed.
func (db *DB) Close() error {
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return ErrClosed
	}
	db.closed = true
	db.mu.Unlock()
	db.signal()
	<-db.stopped
	var errs []error
	for _, stmts := range []map[string]*sql.Stmt{db.prepared, db.readStmts} {
		for _, s := range stmts {
			errs = append(errs, s.Close())
		}
	}
	errs = append(errs, db.read.Close(), db.write.Close())
	return errors.Join(errs...)
}

func (db *DB) isClosed() bool {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.closed
}

// Ping reports whether the database answers.
//
// After a write transaction has failed, Ping also writes (a row rewritten
// as it is, through the writer) and reports whether that commits: a store
// that answers reads but cannot write, on a full disk, is not ready.
func (db *DB) Ping(ctx context.Context) error {
	if db.isClosed() {
		return ErrClosed
	}
	if err := db.read.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite: %w", err)
	}
	if !db.writeFailed.Load() {
		return nil
	}
	err := db.submit(ctx, func(ctx context.Context, b *batch) error {
		_, err := b.exec(ctx, probeWrite, parley.DefaultRoom)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite cannot write: %w", err)
	}
	return nil
}

// The queries that chat traffic runs, which Open prepares on the read pool:
// SQLite takes longer to parse them than to run them. Each connection of
// the pool prepares them once, when it first runs them.
const (
	selectRoom = `
		SELECT created_at, last_seq, kind, title, topic, owner, archived_at, description
		FROM rooms
		WHERE name = ?`
	selectRoomID = `SELECT id FROM rooms WHERE name = ?`
	// Both entry queries walk the (room_id, seq) index from one end and
	// stop after LIMIT rows, however long the log.
	selectOldest = `
		SELECT seq, kind, sender, text, client_id, at, target, edited, deleted
		FROM entries
		WHERE room_id = ? AND seq > ? AND seq < ?
		ORDER BY seq
		LIMIT ?`
	selectNewest = `
		SELECT seq, kind, sender, text, client_id, at, target, edited, deleted
		FROM entries
		WHERE room_id = ? AND seq > ? AND seq < ?
		ORDER BY seq DESC
		LIMIT ?`
)

var readQueries = []string{selectRoom, selectRoomID, selectOldest, selectNewest, selectSession,
	selectAccount, selectAnyAccount, selectAccountSessions, selectReadMarker}

// Room returns the room named name, or a NotFound error.
func (db *DB) Room(ctx context.Context, name string) (*parley.Room, error) {
	if db.isClosed() {
		return nil, ErrClosed
	}
	var createdAt int64
	var archivedAt sql.NullInt64
	r := &parley.Room{Name: name}
	err := db.readStmts[selectRoom].QueryRowContext(ctx, name).Scan(&createdAt, &r.LastSeq, &r.Kind, &r.Title, &r.Topic, &r.Owner, &archivedAt, &r.Description)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, errNoRoom(name)
	case err != nil:
		return nil, fmt.Errorf("read room %q: %w", name, err)
	}
	r.CreatedAt, r.ArchivedAt = fromMillis(createdAt), fromNullMillis(archivedAt)
	return r, nil
}

// Rooms returns the rooms whose names come after after, at most limit,
// ordered by name (byte-wise, as Go compares strings).
func (db *DB) Rooms(ctx context.Context, after string, limit int) ([]*parley.Room, error) {
	if err := parley.ValidateRoomPage(limit); err != nil {
		return nil, err
	}
	if db.isClosed() {
		return nil, ErrClosed
	}
	rows, err := db.read.QueryContext(ctx, `
		SELECT name, created_at, last_seq, kind, title, topic, owner, archived_at, description
		FROM rooms
		WHERE name > ?
		ORDER BY name
		LIMIT ?`, after, limit)
	return scanRooms(rows, err)
}

// scanRooms reads the rooms that a query of their columns returned.
func scanRooms(rows *sql.Rows, err error) ([]*parley.Room, error) {
	if err != nil {
		return nil, fmt.Errorf("list rooms: %w", err)
	}
	defer rows.Close()
	rooms := []*parley.Room{}
	for rows.Next() {
		var createdAt int64
		var archivedAt sql.NullInt64
		r := &parley.Room{}
		if err := rows.Scan(&r.Name, &createdAt, &r.LastSeq, &r.Kind, &r.Title, &r.Topic, &r.Owner, &archivedAt, &r.Description); err != nil {
			return nil, fmt.Errorf("list rooms: %w", err)
		}
		r.CreatedAt, r.ArchivedAt = fromMillis(createdAt), fromNullMillis(archivedAt)
		rooms = append(rooms, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list rooms: %w", err)
	}
	return rooms, nil
}

// Members returns the members of every room, ordered by room, then nick.
func (db *DB) Members(ctx context.Context) ([]parley.Member, error) {
	if db.isClosed() {
		return nil, ErrClosed
	}
	rows, err := db.read.QueryContext(ctx, `
		SELECT rooms.name, members.nick
		FROM members JOIN rooms ON rooms.id = members.room_id
		ORDER BY rooms.name, members.nick`)
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	defer rows.Close()
	members := []parley.Member{}
	for rows.Next() {
		var m parley.Member
		if err := rows.Scan(&m.Room, &m.Nick); err != nil {
			return nil, fmt.Errorf("list members: %w", err)
		}
		members = append(members, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	return members, nil
}

// Entries returns the part of room's log that p selects, oldest first. It
// returns Invalid for a bad page and NotFound for an unknown room.
func (db *DB) Entries(ctx context.Context, room string, p parley.Page) ([]*parley.Entry, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if db.isClosed() {
		return nil, ErrClosed
	}
	var id int64
	err := db.readStmts[selectRoomID].QueryRowContext(ctx, room).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, errNoRoom(room)
	case err != nil:
		return nil, fmt.Errorf("read room %q: %w", room, err)
	}

	before := p.Before
	if before == 0 {
		before = 1<<63 - 1
	}
	query := selectNewest
	if p.Oldest {
		query = selectOldest
	}
	rows, err := db.readStmts[query].QueryContext(ctx, id, p.After, before, p.Limit)
	if err != nil {
		return nil, fmt.Errorf("read entries of %q: %w", room, err)
	}
	defer rows.Close()
	entries := make([]*parley.Entry, 0, p.Limit)
	var kind sql.RawBytes
	for rows.Next() {
		var at int64
		e := &parley.Entry{Room: room}
		if err := rows.Scan(&e.Seq, &kind, &e.From, &e.Text, &e.ClientID, &at, &e.Target, &e.Edited, &e.Deleted); err != nil {
			return nil, fmt.Errorf("read entries of %q: %w", room, err)
		}
		e.Kind = entryKind(kind)
		e.At = fromMillis(at)
		entries = append(entries, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read entries of %q: %w", room, err)
	}
	if !p.Oldest {
		for i, j := 0, len(entries)-1; i < j; i, j = i+1, j-1 {
			entries[i], entries[j] = entries[j], entries[i]
		}
	}
	return entries, nil
}

// entryKind returns the kind stored as b without allocating for the kinds
// there are; the schema admits no others.
func entryKind(b []byte) parley.EntryKind {
	for _, k := range []parley.EntryKind{parley.KindMessage, parley.KindJoin, parley.KindLeave, parley.KindEdit, parley.KindDelete} {
		if string(b) == string(k) {
			return k
		}
	}
	return parley.EntryKind(b)
}

func errNoRoom(name string) error {
	return parley.Errorf(parley.NotFound, "There is no room named %q.", name)
}

// fromMillis turns a stored time, in Unix milliseconds, into a time in UTC.
func fromMillis(ms int64) time.Time {
	return time.UnixMilli(ms).UTC()
}

// fromNullMillis returns the time of ms, Unix milliseconds, or nil when ms
// is NULL.
func fromNullMillis(ms sql.NullInt64) *time.Time {
	if !ms.Valid {
		return nil
	}
	t := fromMillis(ms.Int64)
	return &t
}
