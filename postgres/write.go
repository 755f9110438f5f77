package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/parley-chat/parley"
)

// Every write goes through a writer goroutine (writer.run). A caller queues
// an op with the writer of its room (or name's key, or token) and waits; the
// writer takes everything queued, up to maxBatch ops, and commits it in one
// transaction of four round trips, however many ops it holds:
//
//  1. BEGIN.
//  2. One pipelined batch of statements, each about all the batch's rooms
//     at once: create the rooms that EnsureRoom asks for; lock the rooms'
//     rows in the order of their names (SELECT … ORDER BY name FOR UPDATE)
//     and read their last sequence numbers; look up which of the batch's
//     entries the rooms hold already (by room, sender and client id), the
//     messages that its edits and deletions change, and which of the
//     nicknames that join or leave are members.
//  3. In Go, the ops in the order they were queued: each new entry gets its
//     room's next number; a retry, of a message stored before or earlier in
//     the batch, gets the original's and uses up none. Then a second
//     pipelined batch stores every new entry in one INSERT, the rooms' new
//     last numbers in one UPDATE, the changes that edits and deletions
//     make to their messages, the membership changes, and the session
//     and account changes, after the locks on the names they claim.
//  4. COMMIT. Then each caller is told.
//
// The writer never waits for more ops to arrive: under load its queue
// fills while a transaction commits, and the next transaction takes it all,
// so batching costs no latency. The writers of a DB commit at the same time
// on their own connections; one room's ops always go to one writer, so they
// never wait for each other's locks.
//
// Between replicas, the room's row lock orders the transactions that
// append to one room: a transaction reads the room's last number, and
// looks for retries, only once it holds the lock, so it sees every entry
// that a transaction committed before it. Rooms are created first and
// locked in one order, the order of their names, by every transaction, so
// two never wait for each other in a circle. Session and account changes
// come last, after the advisory locks on the names claimed, taken in one
// order too (session.go), and a deadlock among them (which PostgreSQL detects, failing one
// transaction) is retried, as is a failure to reach the database before
// anything was sent.

// txTimeout bounds one write transaction, so that a database that stops
// answering fails the writes (Internal errors, which callers retry) rather
// than holding them, and Close, for ever.
const txTimeout = 30 * time.Second

// maxAttempts is how many times a transaction is tried when it fails in a
// way that trying again may cure.
const maxAttempts = 3

type opKind uint8

const (
	opEnsureRoom opKind = iota
	opAppend
	opAmend
	opJoin
	opLeave
	opCreateSession
	opExtendSession
	opEndSession
	opCreateAccount
	opUpdateAccount
	opCreateAccountSession
	opEndAccountSession
	opMarkRead
	// opExec runs exec in the transaction: the changes of private and
	// direct rooms (rooms.go), imports (copy.go), and tests. With room
	// set, the room's row is locked, with the batch's others, first.
	opExec
)

// An op is one write waiting for a writer.
type op struct {
	kind      opKind
	quiet     bool                 // join, leave: change the membership, append no entry
	room      string               // ensure, append, join, leave; exec: the room to lock, if any
	nick      string               // join, leave, create session
	in        parley.Entry         // append, amend: the entry to store
	admin     bool                 // amend: the sender is an administrator
	tokenHash string               // sessions
	ttl       time.Duration        // create and extend session
	key       string               // accounts: the NickKey of the account's name
	account   *parley.Account      // create account
	update    parley.AccountUpdate // update account
	sessKind  parley.SessionKind   // create account session
	label     string               // create account session
	seq       int64                // mark read
	// exec, for opExec, runs in the transaction, after everything else. It
	// returns a *parley.Error when only its op fails; any other error fails
	// the transaction.
	exec func(ctx context.Context, tx pgx.Tx) error

	// Results, written by the writer before done is closed.
	out     parley.Entry  // append, amend: the entry as stored
	dup     bool          // append, amend
	created *parley.Room  // ensure
	changed *parley.Entry // join, leave: the entry stored, nil if none
	at      time.Time     // create account: when it was stored; exec: the batch's time, set before exec runs
	ended   []string      // update account: the IDs of the live sessions ended
	err     error
	done    chan struct{} // closed when the op's transaction has ended
}

// reset clears what a failed attempt at the op's transaction wrote.
func (o *op) reset() {
	o.out, o.dup, o.created, o.changed, o.at, o.ended, o.err = o.in, false, nil, nil, time.Time{}, nil, nil
}

// writer is one writer goroutine and its queue.
type writer struct {
	db       *DB
	maxBatch int

	wake    chan struct{} // capacity 1: tells run that pending or closed changed
	stopped chan struct{} // closed when run has returned

	mu      sync.Mutex
	pending []*op // guarded by mu; ops waiting for run, oldest first
	closed  bool  // guarded by mu; set by close, after which nothing is queued

	batches atomic.Int64 // committed transactions, for tests and benchmarks
	ops     atomic.Int64 // ops in committed transactions, for benchmarks
}

func newWriter(db *DB, maxBatch int) *writer {
	return &writer{db: db, maxBatch: maxBatch, wake: make(chan struct{}, 1), stopped: make(chan struct{})}
}

// submit queues o with the writer of key and returns its error once its
// transaction has ended. When ctx is done before the writer takes o,
// submit withdraws it and returns ctx's error; once taken, o completes
// regardless.
func (db *DB) submit(ctx context.Context, key string, o *op) error {
	w := db.writerFor(key)
	o.done = make(chan struct{})
	if err := w.enqueue(ctx, o); err != nil {
		return err
	}
	return w.await(ctx, o)
}

func (w *writer) enqueue(ctx context.Context, o *op) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.pending = append(w.pending, o)
	w.mu.Unlock()
	w.signal()
	return nil
}

func (w *writer) await(ctx context.Context, o *op) error {
	select {
	case <-o.done:
		return o.err
	case <-ctx.Done():
	}
	w.mu.Lock()
	i := slices.Index(w.pending, o)
	if i >= 0 {
		w.pending = slices.Delete(w.pending, i, i+1)
	}
	w.mu.Unlock()
	if i >= 0 {
		return ctx.Err()
	}
	<-o.done // The writer has o in a transaction, which ends soon.
	return o.err
}

// signal wakes run, unless a wake-up is pending already.
func (w *writer) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// close stops the writer accepting ops; run returns once it has committed
// those queued before.
func (w *writer) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.signal()
}

// run is the writer goroutine. It returns after close, once every op queued
// before has committed.
func (w *writer) run() {
	defer close(w.stopped)
	for {
		<-w.wake
		for {
			ops, closed := w.take()
			if len(ops) > 0 {
				w.commit(ops)
				continue
			}
			if closed {
				return
			}
			break
		}
	}
}

// take removes and returns the oldest queued ops, at most w.maxBatch, and
// reports whether the writer is closed.
func (w *writer) take() (ops []*op, closed bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := min(len(w.pending), w.maxBatch)
	ops = slices.Clone(w.pending[:n])
	w.pending = slices.Delete(w.pending, 0, n)
	return ops, w.closed
}

// commit runs ops in one transaction and reports to their callers. If the
// transaction fails, every op gets the error and none of them is stored.
func (w *writer) commit(ops []*op) {
	start := time.Now()
	var err error
	for attempt := 1; ; attempt++ {
		err = w.commitTx(ops)
		if err == nil || attempt == maxAttempts || !retryable(err) {
			break
		}
	}
	w.db.writeFailed.Store(err != nil)
	if err == nil {
		w.batches.Add(1)
		w.ops.Add(int64(len(ops)))
		w.db.observe(len(ops), time.Since(start))
	}
	for _, o := range ops {
		if err != nil {
			o.err = err
		}
		close(o.done)
	}
}

// retryable reports whether a transaction that failed with err may succeed
// if tried again from the start: nothing reached the server, or PostgreSQL
// chose it as the victim of a deadlock or a serialization failure.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40P01" || pgErr.Code == "40001"
	}
	return pgconn.SafeToRetry(err)
}

func (w *writer) commitTx(ops []*op) error {
	// The callers' contexts are not used: once an op is in a transaction,
	// it completes, whoever gave up waiting.
	ctx, cancel := context.WithTimeout(context.Background(), txTimeout)
	defer cancel()
	for _, o := range ops {
		o.reset()
	}
	b := newBatch(ops, stamp(w.db.now()))

	// Read committed, whatever the database's default: each statement
	// must see what was committed before it started, so that the reads
	// after a room's lock see what the lock waited for.
	tx, err := w.db.write.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return fmt.Errorf("begin write: %w", err)
	}
	defer tx.Rollback(context.Background())
	if err := b.lock(ctx, tx); err != nil {
		return err
	}
	b.apply()
	if err := b.store(ctx, tx); err != nil {
		return err
	}
	for _, o := range ops {
		if o.kind != opExec {
			continue
		}
		o.at = b.at
		err := o.exec(ctx, tx)
		var perr *parley.Error
		switch {
		case errors.As(err, &perr):
			o.err = err
		case err != nil:
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit write: %w", err)
	}
	return nil
}

// A batch is the work of one write transaction.
type batch struct {
	ops []*op
	// at stamps everything the batch stores: its start, to the
	// microsecond.
	at     time.Time
	rooms  map[string]*roomWork // the rooms the ops touch, by name
	names  []string             // the keys of rooms, sorted: the order of locking
	ensure []string             // the rooms to create, sorted
	marks  markWork             // the read markers to move
}

// roomWork is what a batch reads and changes of one room.
type roomWork struct {
	exists    bool // the room exists: lock found its row
	id        int64
	createdAt time.Time
	lastSeq   int64
	// What EnsureRoom returns of the room beside.
	kind                parley.RoomKind
	title, topic, owner string
	description         string
	archivedAt          *time.Time // nil unless archived: then no message, edit or deletion is taken

	// Asked of the database: the entries the batch appends or amends
	// with, by sender and client id, the messages it amends, and the
	// nicknames that join or leave.
	senders, clientIDs []string
	targets            []int64
	nicks              []string

	// stored holds the room's entries that a send, edit or deletion of
	// the batch may retry: those the database holds, then those the batch
	// adds.
	stored map[msgKey]parley.Entry
	// messages holds what an amendment checks of the entries it may
	// change, by number: those of targets the database holds, then the
	// messages the batch adds, as the batch's deletions leave them.
	messages map[int64]*parley.Entry
	// edited holds, by the number of each message the batch edits, its
	// latest edit; deleted holds the batch's deletions.
	edited  map[int64]*parley.Entry
	deleted []*parley.Entry
	// member says, of each nickname in nicks, whether it is a member:
	// first in the database, then after each op of the batch.
	member    map[string]bool
	wasMember map[string]bool // member before the batch

	entries []*parley.Entry // new entries, in the order of their numbers
}

type msgKey struct{ from, clientID string }

func newBatch(ops []*op, at time.Time) *batch {
	b := &batch{ops: ops, at: at, rooms: map[string]*roomWork{}}
	seenKey := map[string]map[msgKey]bool{}
	seenNick := map[string]map[string]bool{}
	for _, o := range ops {
		switch o.kind {
		case opMarkRead:
			b.marks.add(o.room)
			continue
		case opEnsureRoom, opAppend, opAmend, opJoin, opLeave:
		case opExec:
			if o.room == "" {
				continue
			}
		default:
			continue
		}
		r := b.rooms[o.room]
		if r == nil {
			r = &roomWork{
				stored: map[msgKey]parley.Entry{}, messages: map[int64]*parley.Entry{}, edited: map[int64]*parley.Entry{},
				member: map[string]bool{}, wasMember: map[string]bool{},
			}
			b.rooms[o.room] = r
			b.names = append(b.names, o.room)
			seenKey[o.room], seenNick[o.room] = map[msgKey]bool{}, map[string]bool{}
		}
		switch o.kind {
		case opEnsureRoom:
			// Only CreateRoom makes the rooms of server-made names.
			if !parley.ServerMade(o.room) && !slices.Contains(b.ensure, o.room) {
				b.ensure = append(b.ensure, o.room)
			}
		case opAppend, opAmend:
			if k := (msgKey{o.in.From, o.in.ClientID}); !seenKey[o.room][k] {
				seenKey[o.room][k] = true
				r.senders, r.clientIDs = append(r.senders, k.from), append(r.clientIDs, k.clientID)
			}
			if o.kind == opAmend && !slices.Contains(r.targets, o.in.Target) {
				r.targets = append(r.targets, o.in.Target)
			}
		case opJoin, opLeave:
			if !seenNick[o.room][o.nick] {
				seenNick[o.room][o.nick] = true
				r.nicks = append(r.nicks, o.nick)
			}
		}
	}
	slices.Sort(b.names)
	slices.Sort(b.ensure)
	return b
}

// The statements of lock, each about every room of the batch at once.
const (
	insertRooms = `
		INSERT INTO rooms (name, created_at)
		SELECT name, $2 FROM unnest($1::text[]) AS name
		ORDER BY name
		ON CONFLICT (name) DO NOTHING`
	// lockRooms locks the rows in the order it returns them: the order of
	// their names.
	lockRooms = `
		SELECT id, name, created_at, last_seq, kind, title, topic, owner, archived_at, description
		FROM rooms
		WHERE name = ANY ($1::text[])
		ORDER BY name
		FOR UPDATE`
	// selectByClientIDs finds entries by room, sender and client id, one
	// probe of the unique index entries_client_id each (whose condition
	// the query repeats, so that the planner uses it). (LIMIT keeps the
	// planner from turning the probes into a join, which, on a table it
	// thinks small, walked a room's whole log for every batch.)
	selectByClientIDs = `
		SELECT k.room, k.sender, k.client_id, e.seq, e.kind, e.text, e.target, e.edited, e.deleted, e.at
		FROM unnest($1::text[], $2::text[], $3::text[]) AS k (room, sender, client_id)
		CROSS JOIN LATERAL (
			SELECT seq, kind, text, target, edited, deleted, at
			FROM entries
			WHERE room_id = (SELECT id FROM rooms WHERE name = k.room)
				AND client_id <> '' AND sender = k.sender AND client_id = k.client_id
			LIMIT 1) e`
	// selectTargets reads the entries that amendments change, by room
	// and number, one probe of the primary key each.
	selectTargets = `
		SELECT k.room, k.seq, e.kind, e.sender, e.deleted
		FROM unnest($1::text[], $2::bigint[]) AS k (room, seq)
		CROSS JOIN LATERAL (
			SELECT kind, sender, deleted
			FROM entries
			WHERE room_id = (SELECT id FROM rooms WHERE name = k.room) AND seq = k.seq
			LIMIT 1) e`
	// selectMembers finds which of the (room, nickname) pairs are
	// memberships, one probe of the primary key each.
	selectMembers = `
		SELECT k.room, k.nick
		FROM unnest($1::text[], $2::text[]) AS k (room, nick)
		CROSS JOIN LATERAL (
			SELECT 1
			FROM members
			WHERE room_id = (SELECT id FROM rooms WHERE name = k.room) AND nick = k.nick
			LIMIT 1) m`
)

// lock creates the rooms that the batch ensures, locks every room it
// touches, in the order of their names, and reads what apply needs, in
// one round trip. PostgreSQL runs each statement with a snapshot taken
// when it starts, so the reads that follow the lock see every entry
// committed before the lock was granted.
func (b *batch) lock(ctx context.Context, tx pgx.Tx) error {
	q := &pgx.Batch{}
	if len(b.ensure) > 0 {
		q.Queue(insertRooms, b.ensure, b.at)
	}
	q.Queue(lockRooms, b.names).Query(func(rows pgx.Rows) error {
		var (
			name string
			r    roomWork
		)
		_, err := pgx.ForEachRow(rows, []any{&r.id, &name, &r.createdAt, &r.lastSeq, &r.kind, &r.title, &r.topic, &r.owner, &r.archivedAt, &r.description}, func() error {
			w := b.rooms[name]
			w.exists, w.id, w.createdAt, w.lastSeq = true, r.id, r.createdAt.UTC(), r.lastSeq
			w.kind, w.title, w.topic, w.owner, w.archivedAt, w.description = r.kind, r.title, r.topic, r.owner, utc(r.archivedAt), r.description
			return nil
		})
		if err != nil {
			return fmt.Errorf("lock rooms: %w", err)
		}
		return nil
	})
	var rooms, senders, clientIDs []string
	var memberRooms, nicks []string
	var targetRooms []string
	var targets []int64
	for _, name := range b.names {
		r := b.rooms[name]
		for range r.senders {
			rooms = append(rooms, name)
		}
		senders, clientIDs = append(senders, r.senders...), append(clientIDs, r.clientIDs...)
		for range r.targets {
			targetRooms = append(targetRooms, name)
		}
		targets = append(targets, r.targets...)
		for range r.nicks {
			memberRooms = append(memberRooms, name)
		}
		nicks = append(nicks, r.nicks...)
	}
	if len(rooms) > 0 {
		q.Queue(selectByClientIDs, rooms, senders, clientIDs).Query(func(rows pgx.Rows) error {
			var room, kind string
			var k msgKey
			var e parley.Entry
			dest := []any{&room, &k.from, &k.clientID, &e.Seq, &kind, &e.Text, &e.Target, &e.Edited, &e.Deleted, &e.At}
			_, err := pgx.ForEachRow(rows, dest, func() error {
				stored := e
				stored.Room, stored.Kind, stored.From, stored.ClientID, stored.At = room, parley.EntryKind(kind), k.from, k.clientID, e.At.UTC()
				b.rooms[room].stored[k] = stored
				return nil
			})
			if err != nil {
				return fmt.Errorf("find entries: %w", err)
			}
			return nil
		})
	}
	if len(targets) > 0 {
		q.Queue(selectTargets, targetRooms, targets).Query(func(rows pgx.Rows) error {
			var room, kind string
			var e parley.Entry
			_, err := pgx.ForEachRow(rows, []any{&room, &e.Seq, &kind, &e.From, &e.Deleted}, func() error {
				m := e
				m.Kind = parley.EntryKind(kind)
				b.rooms[room].messages[m.Seq] = &m
				return nil
			})
			if err != nil {
				return fmt.Errorf("find messages: %w", err)
			}
			return nil
		})
	}
	if len(nicks) > 0 {
		q.Queue(selectMembers, memberRooms, nicks).Query(func(rows pgx.Rows) error {
			var room, nick string
			_, err := pgx.ForEachRow(rows, []any{&room, &nick}, func() error {
				r := b.rooms[room]
				r.member[nick], r.wasMember[nick] = true, true
				return nil
			})
			if err != nil {
				return fmt.Errorf("read members: %w", err)
			}
			return nil
		})
	}
	b.marks.queueRooms(q)
	if err := tx.SendBatch(ctx, q).Close(); err != nil {
		return fmt.Errorf("lock rooms: %w", err)
	}
	return nil
}

// apply makes the room ops of the batch, in the order they were queued,
// in memory: it gives each new entry its room's next number, finds
// retries, and follows memberships. store then writes the result.
func (b *batch) apply() {
	for _, o := range b.ops {
		r := b.rooms[o.room]
		switch o.kind {
		case opMarkRead:
			b.marks.apply(o)
		case opEnsureRoom:
			switch {
			case !r.exists && parley.ServerMade(o.room):
				o.err = errNoRoom(o.room)
				continue
			case !r.exists:
				// Created or found by insertRoom a moment ago, so lock
				// found it, unless someone is tampering with the table.
				o.err = fmt.Errorf("create room %q: the room is not there after creating it", o.room)
				continue
			}
			o.created = &parley.Room{Name: o.room, Kind: r.kind, Title: r.title, Topic: r.topic, Owner: r.owner, Description: r.description,
				CreatedAt: r.createdAt, LastSeq: r.lastSeq, ArchivedAt: r.archivedAt}
		case opAppend:
			if !r.exists {
				o.err = errNoRoom(o.room)
				continue
			}
			k := msgKey{o.in.From, o.in.ClientID}
			if e, ok := r.stored[k]; ok {
				o.dup, o.out = true, e
				continue
			}
			if r.archivedAt != nil {
				o.err = parley.ErrArchived(o.room)
				continue
			}
			b.add(r, &o.out)
			r.stored[k] = o.out
			r.messages[o.out.Seq] = &parley.Entry{Seq: o.out.Seq, Kind: parley.KindMessage, From: o.out.From}
		case opAmend:
			if !r.exists {
				o.err = errNoRoom(o.room)
				continue
			}
			k := msgKey{o.in.From, o.in.ClientID}
			if e, ok := r.stored[k]; ok {
				o.dup, o.out = true, e
				continue
			}
			if r.archivedAt != nil {
				o.err = parley.ErrArchived(o.room)
				continue
			}
			m := r.messages[o.in.Target]
			if m == nil {
				o.err = parley.ErrNoMessage(&o.in)
				continue
			}
			if o.err = checkAmendment(&o.in, m, o.admin); o.err != nil {
				continue
			}
			b.add(r, &o.out)
			r.stored[k] = o.out
			if o.out.Kind == parley.KindEdit {
				r.edited[m.Seq] = &o.out
			} else {
				m.Deleted = o.out.Seq
				r.deleted = append(r.deleted, &o.out)
			}
		case opJoin, opLeave:
			if !r.exists {
				o.err = errNoRoom(o.room)
				continue
			}
			join := o.kind == opJoin
			if r.member[o.nick] == join {
				continue // a member already, or not one: nothing to store
			}
			r.member[o.nick] = join
			e := &parley.Entry{Room: o.room, Kind: parley.KindJoin, From: o.nick}
			if !join {
				e.Kind = parley.KindLeave
			}
			if !o.quiet {
				b.add(r, e)
			}
			o.changed = e
		}
	}
}

// checkAmendment reports whether e may amend m: a message not deleted,
// that e.From, an administrator when admin is set, may edit or delete.
func checkAmendment(e, m *parley.Entry, admin bool) error {
	by := parley.Actor{Nick: e.From, Admin: admin}
	switch {
	case m.Kind != parley.KindMessage:
		return parley.ErrNoMessage(e)
	case e.Kind == parley.KindEdit && !parley.MayEdit(by, m),
		e.Kind == parley.KindDelete && !parley.MayDelete(by, m):
		return parley.ErrNotYours(e)
	case m.Deleted != 0:
		return parley.ErrAlreadyDeleted(e)
	}
	return nil
}

// add gives e the room's next number and the batch's time, to be stored.
func (b *batch) add(r *roomWork, e *parley.Entry) {
	r.lastSeq++
	e.Seq, e.At = r.lastSeq, b.at
	r.entries = append(r.entries, e)
}

// The statements of store, each about every room of the batch at once
// but deleteMembers, which is rare.
const (
	// insertEntries stores the new entries in one statement. A clash with
	// an entry already stored would mean that a room's numbering went
	// wrong, so it fails the transaction rather than skip a number.
	insertEntries = `
		INSERT INTO entries (room_id, seq, kind, sender, text, client_id, target, at)
		SELECT e.room_id, e.seq, e.kind, e.sender, e.text, e.client_id, e.target, $8
		FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])
			AS e (room_id, seq, kind, sender, text, client_id, target)`
	// updateEdited gives messages the text of their latest edits, after
	// insertEntries, which may have stored them.
	updateEdited = `
		UPDATE entries
		SET text = v.text, edited = v.edited
		FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[]) AS v (room_id, seq, text, edited)
		WHERE entries.room_id = v.room_id AND entries.seq = v.seq`
	// updateDeleted and updateDeletedEdits remove the text of deleted
	// messages and of their edits (with the index entries_target), after
	// insertEntries and updateEdited.
	updateDeleted = `
		UPDATE entries
		SET text = '', deleted = v.deleted
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS v (room_id, seq, deleted)
		WHERE entries.room_id = v.room_id AND entries.seq = v.seq`
	updateDeletedEdits = `
		UPDATE entries
		SET text = '', deleted = v.deleted
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS v (room_id, target, deleted)
		WHERE entries.room_id = v.room_id AND entries.target = v.target AND entries.kind = 'edit'`
	insertMembers = `
		INSERT INTO members (room_id, nick)
		SELECT * FROM unnest($1::bigint[], $2::text[])`
	deleteMembers = `
		DELETE FROM members
		WHERE room_id = $1 AND nick = ANY ($2::text[])`
	updateLastSeqs = `
		UPDATE rooms
		SET last_seq = v.last_seq
		FROM unnest($1::bigint[], $2::bigint[]) AS v (id, last_seq)
		WHERE rooms.id = v.id`
)

// store writes what apply made, with the batch's session changes, in one
// pipelined batch of statements.
func (b *batch) store(ctx context.Context, tx pgx.Tx) error {
	var (
		roomIDs, seqs, targets           []int64
		kinds, senders, texts, clientIDs []string
		editRooms, edited, editSeqs      []int64
		editTexts                        []string
		deleteRooms, deleted, deleteSeqs []int64
		joinedRooms                      []int64
		joined                           []string
		changedRooms, lastSeqs           []int64
	)
	q := &pgx.Batch{}
	for _, name := range b.names {
		r := b.rooms[name]
		for _, e := range r.entries {
			roomIDs, seqs = append(roomIDs, r.id), append(seqs, e.Seq)
			kinds, senders = append(kinds, string(e.Kind)), append(senders, e.From)
			texts, clientIDs = append(texts, e.Text), append(clientIDs, e.ClientID)
			targets = append(targets, e.Target)
		}
		for target, e := range r.edited {
			editRooms, edited, editSeqs, editTexts = append(editRooms, r.id), append(edited, target), append(editSeqs, e.Seq), append(editTexts, e.Text)
		}
		for _, e := range r.deleted {
			deleteRooms, deleted, deleteSeqs = append(deleteRooms, r.id), append(deleted, e.Target), append(deleteSeqs, e.Seq)
		}
		// Memberships change with their entries, or without (AddMember,
		// RemoveMember).
		var left []string
		for _, nick := range r.nicks {
			switch {
			case r.member[nick] && !r.wasMember[nick]:
				joinedRooms, joined = append(joinedRooms, r.id), append(joined, nick)
			case !r.member[nick] && r.wasMember[nick]:
				left = append(left, nick)
			}
		}
		if len(left) > 0 {
			q.Queue(deleteMembers, r.id, left)
		}
		if len(r.entries) > 0 {
			changedRooms, lastSeqs = append(changedRooms, r.id), append(lastSeqs, r.lastSeq)
		}
	}
	if len(roomIDs) > 0 {
		q.Queue(insertEntries, roomIDs, seqs, kinds, senders, texts, clientIDs, targets, b.at)
		q.Queue(updateLastSeqs, changedRooms, lastSeqs)
	}
	if len(edited) > 0 {
		q.Queue(updateEdited, editRooms, edited, editTexts, editSeqs)
	}
	if len(deleted) > 0 {
		q.Queue(updateDeleted, deleteRooms, deleted, deleteSeqs)
		q.Queue(updateDeletedEdits, deleteRooms, deleted, deleteSeqs)
	}
	if len(joined) > 0 {
		q.Queue(insertMembers, joinedRooms, joined)
	}
	b.marks.queue(q)
	b.queueSessions(q)
	if q.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, q).Close(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// EnsureRoom returns the room named name, creating it, public, with an
// empty log when it does not exist. It returns Invalid for a bad name, and
// NotFound for a server-made name (parley.ServerMade) that no room has:
// only CreateRoom makes those.
func (db *DB) EnsureRoom(ctx context.Context, name string) (*parley.Room, error) {
	if err := parley.ValidateRoomName(name); err != nil {
		return nil, err
	}
	o := &op{kind: opEnsureRoom, room: name}
	if err := db.submit(ctx, name, o); err != nil {
		return nil, err
	}
	return o.created, nil
}

// Append stores the message e in its room's log and sets e.Seq and e.At,
// returning only after the transaction that stores it has committed. It
// returns Invalid for a message that e.ValidateMessage rejects, or whose
// sender or text holds a NUL character, which PostgreSQL cannot store, and
// NotFound for an unknown room. When the room holds an entry from e.From
// with e.ClientID already, Append stores nothing, sets *e to the stored
// entry, and reports dup true.
func (db *DB) Append(ctx context.Context, e *parley.Entry) (dup bool, err error) {
	if err := e.ValidateMessage(); err != nil {
		return false, err
	}
	return db.appendOp(ctx, &op{kind: opAppend, room: e.Room, in: *e}, e)
}

// Amend stores e, an edit or a deletion of the message e.Target, in its
// room's log, and changes the message to match, as parley.Store.Amend
// says, returning only after the transaction has committed. It returns
// Invalid for a sender or text that holds a NUL character, as Append
// does.
func (db *DB) Amend(ctx context.Context, e *parley.Entry, admin bool) (dup bool, err error) {
	if err := e.ValidateAmendment(); err != nil {
		return false, err
	}
	return db.appendOp(ctx, &op{kind: opAmend, room: e.Room, in: *e, admin: admin}, e)
}

// appendOp submits o, an append or an amendment of e, and sets *e to the
// entry stored.
func (db *DB) appendOp(ctx context.Context, o *op, e *parley.Entry) (dup bool, err error) {
	if !storable(e.From) || !storable(e.Text) {
		return false, parley.Errorf(parley.Invalid, "A message and its sender's name must not contain the character U+0000.")
	}
	if err := db.submit(ctx, e.Room, o); err != nil {
		return false, err
	}
	*e = o.out
	return o.dup, nil
}

// Join makes nick a member of room, appending and returning a join entry.
// When nick is a member already it stores nothing and returns nil, nil. It
// returns Invalid for a bad nickname and NotFound for an unknown room.
func (db *DB) Join(ctx context.Context, room, nick string) (*parley.Entry, error) {
	return db.changeMembership(ctx, opJoin, room, nick, false)
}

// Leave ends nick's membership of room, appending and returning a leave
// entry. When nick is not a member it stores nothing and returns nil, nil.
// It returns Invalid for a bad nickname and NotFound for an unknown room.
func (db *DB) Leave(ctx context.Context, room, nick string) (*parley.Entry, error) {
	return db.changeMembership(ctx, opLeave, room, nick, false)
}

// AddMember makes nick a member of room without a join entry, and
// reports whether nick was not a member before. It returns Invalid for a
// bad nickname and NotFound for an unknown room.
func (db *DB) AddMember(ctx context.Context, room, nick string) (bool, error) {
	e, err := db.changeMembership(ctx, opJoin, room, nick, true)
	return e != nil, err
}

// RemoveMember ends nick's membership of room without a leave entry, and
// reports whether nick was a member. It returns Invalid for a bad nickname
// and NotFound for an unknown room.
func (db *DB) RemoveMember(ctx context.Context, room, nick string) (bool, error) {
	e, err := db.changeMembership(ctx, opLeave, room, nick, true)
	return e != nil, err
}

func (db *DB) changeMembership(ctx context.Context, kind opKind, room, nick string, quiet bool) (*parley.Entry, error) {
	if err := parley.ValidateNick(nick); err != nil {
		return nil, err
	}
	if !storable(room) {
		if db.isClosed() {
			return nil, ErrClosed
		}
		return nil, errNoRoom(room)
	}
	o := &op{kind: kind, room: room, nick: nick, quiet: quiet}
	if err := db.submit(ctx, room, o); err != nil {
		return nil, err
	}
	return o.changed, nil
}
