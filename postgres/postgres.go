// Package postgres implements parley.Store on PostgreSQL, the store of
// Parley when several replicas share one database. It uses pgx through two
// pgxpool pools: one for reads (history, rooms, sessions), one that only
// the writers use.
//
// Every change (appends, joins, leaves, room creations, session and account
// changes) is queued for one of a few writer goroutines, chosen by the room
// (or the name's key, or the token) it concerns, so one room's writes
// always meet in one queue. Each writer commits whatever its queue holds, up to a bound, in
// one transaction, with a few round trips whatever the number of writes:
// group commit. Each call returns only after its transaction has
// committed, so a message is durable when it is acknowledged. Writers of
// other rooms commit at the same time on their own connections.
//
// A room's sequence numbers stay gapless and ordered by commit when several
// replicas append to it at once: a transaction locks the row of each room
// it appends to (rooms in the order of their names, so two transactions
// never wait for each other in a circle) before it reads the room's last
// number and looks for the retried sends among its writes, and advances the
// number in the same transaction. A retry is found before it is given a
// number, so it uses none up.
//
// Account names and guests' nicknames are one namespace across replicas
// too: a transaction that claims a name, as a guest's session or an
// account, holds an advisory lock on the name's key while it looks for the
// name's holder and stores its claim (session.go). A private or direct
// room is made once, however many replicas ask for it at once, and an
// account joins one only while it is active (rooms.go).
//
// It owns the SQL and the schema (migrations/*.sql, embedded, applied at
// Open under an advisory lock) and nothing else: it knows no HTTP, hub or
// protocol, and everything it returns is a domain type or a *parley.Error.
// Failures of the database or the connection to it are Internal errors, on
// which callers may retry; idempotent sends make that safe. Package
// storetest holds the contract this package is tested against.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parley-chat/parley"
)

// ErrClosed is returned by every method of a DB after Close.
var ErrClosed = errors.New("postgres: store is closed")

// Defaults of the writers, which the options of Open may change.
const (
	// defaultWriters is the number of writer goroutines, each with a
	// connection of its own: enough that commits to different rooms
	// overlap their round trips and their waits for the disk.
	defaultWriters = 4
	// maxBatch bounds the number of writes committed in one transaction, so
	// that one transaction never holds its rooms' locks for long.
	maxBatch = 1024
)

var _ parley.Store = (*DB)(nil)

// DB is a parley.Store on a PostgreSQL database. It is safe for concurrent
// use, and several DBs, in one process or many, may share one database.
// Open starts its writer goroutines; Close stops them.
type DB struct {
	read    *pgxpool.Pool                   // for reads; static after Open
	write   *pgxpool.Pool                   // one connection per writer; static after Open
	now     func() time.Time                // static after Open
	observe func(size int, d time.Duration) // static after Open
	writers []*writer                       // static after Open

	// writeFailed is set when a writer's last transaction failed as a
	// whole, and cleared by the next that commits.
	writeFailed atomic.Bool

	mu     sync.Mutex
	closed bool // guarded by mu; set by Close, after which nothing is queued
}

// An Option changes how Open sets up a DB.
type Option func(*options)

type options struct {
	now      func() time.Time
	observe  func(size int, d time.Duration)
	writers  int
	maxBatch int
}

// WithCommitObserver makes the DB call observe after each committed
// transaction with the number of writes it held and the time it took, for
// metrics. observe runs on a writer goroutine and must be quick.
func WithCommitObserver(observe func(size int, d time.Duration)) Option {
	return func(o *options) { o.observe = observe }
}

// WithNow makes the DB stamp rooms, entries and sessions with the time now
// returns instead of time.Now. Tests use it to control time.
func WithNow(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// WithWriters sets the number of writer goroutines, and so of connections
// that write at once (4 unless set). One room's writes always go to one
// writer, whatever the number.
func WithWriters(n int) Option {
	return func(o *options) { o.writers = max(1, n) }
}

// Open connects to the PostgreSQL database that url names
// (postgres://user:password@host:port/database?sslmode=…, or any form that
// pgx accepts, pool_max_conns included for the read pool), brings its
// schema up to date, and makes sure that the room parley.DefaultRoom
// exists. The caller must Close the DB. Errors never repeat the URL, which
// may hold a password.
func Open(ctx context.Context, url string, opts ...Option) (*DB, error) {
	o := options{now: time.Now, observe: func(int, time.Duration) {}, writers: defaultWriters, maxBatch: maxBatch}
	for _, opt := range opts {
		opt(&o)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's own message quotes the URL with its password masked.
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "parley"
	}
	read, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	// The pool connects lazily; connect now so a bad URL fails Open.
	if err := read.Ping(ctx); err != nil {
		read.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if err := migrate(ctx, read, o.now()); err != nil {
		read.Close()
		return nil, err
	}

	wcfg := cfg.Copy()
	wcfg.MaxConns = int32(o.writers)
	wcfg.MinConns = 0
	write, err := pgxpool.NewWithConfig(ctx, wcfg)
	if err != nil {
		read.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}

	db := &DB{read: read, write: write, now: o.now, observe: o.observe}
	for range o.writers {
		db.writers = append(db.writers, newWriter(db, o.maxBatch))
	}
	for _, w := range db.writers {
		go w.run()
	}
	return db, nil
}

// Close stops accepting writes, waits for the queued ones to commit, and
// closes the connections. Every call after Close, Close included, returns
// ErrClosed.
func (db *DB) Close() error {
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return ErrClosed
	}
	db.closed = true
	db.mu.Unlock()
	for _, w := range db.writers {
		w.close()
	}
	for _, w := range db.writers {
		<-w.stopped
	}
	db.write.Close()
	db.read.Close()
	return nil
}

func (db *DB) isClosed() bool {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.closed
}

// Ping reports whether the database answers.
//
// After a write transaction has failed, Ping also writes (a row rewritten
// as it is, through a writer) and reports whether that commits: a database
// that answers reads but cannot write (a full disk, a read-only standby)
// is not ready.
func (db *DB) Ping(ctx context.Context) error {
	if db.isClosed() {
		return ErrClosed
	}
	if err := db.read.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	if !db.writeFailed.Load() {
		return nil
	}
	err := db.importTx(ctx, parley.DefaultRoom, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE rooms SET last_seq = last_seq WHERE name = $1`, parley.DefaultRoom)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres cannot write: %w", err)
	}
	return nil
}

// writerFor returns the writer of the writes keyed key: a room's name, a
// nickname's key or a token's hash.
func (db *DB) writerFor(key string) *writer {
	h := fnv.New32a()
	h.Write([]byte(key))
	return db.writers[h.Sum32()%uint32(len(db.writers))]
}

// Room returns the room named name, or a NotFound error.
func (db *DB) Room(ctx context.Context, name string) (*parley.Room, error) {
	if db.isClosed() {
		return nil, ErrClosed
	}
	if !storable(name) {
		return nil, errNoRoom(name)
	}
	r := &parley.Room{Name: name}
	err := db.read.QueryRow(ctx, `
		SELECT created_at, last_seq, kind, title, topic, owner, archived_at, description
		FROM rooms
		WHERE name = $1`, name).Scan(&r.CreatedAt, &r.LastSeq, &r.Kind, &r.Title, &r.Topic, &r.Owner, &r.ArchivedAt, &r.Description)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, errNoRoom(name)
	case err != nil:
		return nil, fmt.Errorf("read room %q: %w", name, err)
	}
	r.CreatedAt, r.ArchivedAt = r.CreatedAt.UTC(), utc(r.ArchivedAt)
	return r, nil
}

// Rooms returns the rooms whose names come after after, at most limit,
// ordered by name (byte-wise, as Go compares strings: the column's
// collation is "C").
func (db *DB) Rooms(ctx context.Context, after string, limit int) ([]*parley.Room, error) {
	if err := parley.ValidateRoomPage(limit); err != nil {
		return nil, err
	}
	if db.isClosed() {
		return nil, ErrClosed
	}
	rows, _ := db.read.Query(ctx, `
		SELECT name, created_at, last_seq, kind, title, topic, owner, archived_at, description
		FROM rooms
		WHERE name > $1
		ORDER BY name
		LIMIT $2`, after, limit)
	return collectRooms(rows)
}

// collectRooms reads the rooms that a query of their columns (name,
// created_at, last_seq, kind, title, topic, owner, archived_at,
// description) returned.
func collectRooms(rows pgx.Rows) ([]*parley.Room, error) {
	rooms, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*parley.Room, error) {
		r := &parley.Room{}
		err := row.Scan(&r.Name, &r.CreatedAt, &r.LastSeq, &r.Kind, &r.Title, &r.Topic, &r.Owner, &r.ArchivedAt, &r.Description)
		r.CreatedAt, r.ArchivedAt = r.CreatedAt.UTC(), utc(r.ArchivedAt)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("list rooms: %w", err)
	}
	if rooms == nil {
		rooms = []*parley.Room{}
	}
	return rooms, nil
}

// Members returns the members of every room, ordered by room, then nick.
func (db *DB) Members(ctx context.Context) ([]parley.Member, error) {
	if db.isClosed() {
		return nil, ErrClosed
	}
	rows, _ := db.read.Query(ctx, `
		SELECT rooms.name, members.nick
		FROM members JOIN rooms ON rooms.id = members.room_id
		ORDER BY rooms.name, members.nick`)
	members, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (parley.Member, error) {
		var m parley.Member
		err := row.Scan(&m.Room, &m.Nick)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	if members == nil {
		members = []parley.Member{}
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
	if !storable(room) {
		return nil, errNoRoom(room)
	}
	var id int64
	err := db.read.QueryRow(ctx, `SELECT id FROM rooms WHERE name = $1`, room).Scan(&id)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, errNoRoom(room)
	case err != nil:
		return nil, fmt.Errorf("read room %q: %w", room, err)
	}

	before := p.Before
	if before == 0 {
		before = 1<<63 - 1
	}
	// Both queries walk the primary key (room_id, seq) from one end and stop
	// after LIMIT rows, however long the log.
	query := `
		SELECT seq, kind, sender, text, client_id, at, target, edited, deleted
		FROM entries
		WHERE room_id = $1 AND seq > $2 AND seq < $3
		ORDER BY seq DESC
		LIMIT $4`
	if p.Oldest {
		query = `
		SELECT seq, kind, sender, text, client_id, at, target, edited, deleted
		FROM entries
		WHERE room_id = $1 AND seq > $2 AND seq < $3
		ORDER BY seq
		LIMIT $4`
	}
	rows, _ := db.read.Query(ctx, query, id, p.After, before, p.Limit)
	entries := make([]*parley.Entry, 0, p.Limit)
	var (
		e    parley.Entry
		kind string
	)
	_, err = pgx.ForEachRow(rows, []any{&e.Seq, &kind, &e.From, &e.Text, &e.ClientID, &e.At, &e.Target, &e.Edited, &e.Deleted}, func() error {
		stored := e
		stored.Room, stored.Kind, stored.At = room, parley.EntryKind(kind), e.At.UTC()
		entries = append(entries, &stored)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read entries of %q: %w", room, err)
	}
	if !p.Oldest {
		for i, j := 0, len(entries)-1; i < j; i, j = i+1, j-1 {
			entries[i], entries[j] = entries[j], entries[i]
		}
	}
	return entries, nil
}

func errNoRoom(name string) error {
	return parley.Errorf(parley.NotFound, "There is no room named %q.", name)
}

// storable reports whether PostgreSQL can hold s as text: valid UTF-8
// without NUL characters. A name it cannot hold names nothing stored, and a
// write holding such text would fail the whole transaction it shares with
// others, so it is refused before it is queued.
func storable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// stamp returns the time to give what a transaction stores: now, in UTC, to
// the microsecond, which is what PostgreSQL keeps.
func stamp(now time.Time) time.Time {
	return now.UTC().Truncate(time.Microsecond)
}

// utc returns t in UTC, or nil for nil.
func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
