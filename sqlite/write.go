package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/parley-chat/parley"
)

// Every write goes through the writer goroutine (run), which owns the write
// connection. A caller queues an op and waits; the writer takes everything
// queued, up to maxBatch ops, runs them in one transaction, commits, and
// tells each caller. It never waits for more ops to arrive: under load the
// queue fills while a transaction commits, and the next transaction takes
// it all, so batching costs no latency.

// writeQueries are the statements of the writer, which Open prepares.
// probeWrite rewrites a row as it is: a write that changes nothing, but
// that the database must be able to write (to its write-ahead log) to
// commit. Ping runs it after a failed transaction.
const probeWrite = `
	UPDATE rooms
	SET last_seq = last_seq
	WHERE name = ?`

var writeQueries = []string{
	probeWrite,
	selectRoomState, insertRoom, selectByClientID, insertMember, deleteMember, insertEntry, updateLastSeq,
	selectTarget, updateEdited, updateDeleted, updateDeletedEdits,
	sweepExpired, deleteExpiredNick, insertSession, updateSession, deleteSession,
	selectAccountKey, selectGuestKey, insertAccount, selectEnded, deleteAccountSessions, deleteAccountSession,
	upsertReadMarker,
}

// An op is one write waiting for the writer goroutine.
type op struct {
	// do makes the write in b's transaction. It returns a *parley.Error,
	// having changed nothing, when only this op fails (an unknown room);
	// any other error fails the whole transaction.
	do func(ctx context.Context, b *batch) error

	err  error         // written by the writer before done is closed
	done chan struct{} // closed when the op's transaction has ended
}

// submit queues a write and returns its error once its transaction has
// ended. When ctx is done before the writer takes the op, submit withdraws
// it and returns ctx's error; once taken, the op completes regardless.
func (db *DB) submit(ctx context.Context, do func(context.Context, *batch) error) error {
	o := &op{do: do, done: make(chan struct{})}
	if err := db.enqueue(ctx, o); err != nil {
		return err
	}
	return db.await(ctx, o)
}

func (db *DB) enqueue(ctx context.Context, o *op) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return ErrClosed
	}
	db.pending = append(db.pending, o)
	db.mu.Unlock()
	db.signal()
	return nil
}

func (db *DB) await(ctx context.Context, o *op) error {
	select {
	case <-o.done:
		return o.err
	case <-ctx.Done():
	}
	db.mu.Lock()
	i := slices.Index(db.pending, o)
	if i >= 0 {
		db.pending = slices.Delete(db.pending, i, i+1)
	}
	db.mu.Unlock()
	if i >= 0 {
		return ctx.Err()
	}
	<-o.done // The writer has o in a transaction, which ends soon.
	return o.err
}

// signal wakes the writer goroutine, unless a wake-up is pending already.
func (db *DB) signal() {
	select {
	case db.wake <- struct{}{}:
	default:
	}
}

// run is the writer goroutine. It returns after Close, once every op queued
// before Close has committed.
func (db *DB) run() {
	defer close(db.stopped)
	for {
		<-db.wake
		for {
			ops, closed := db.take()
			if len(ops) > 0 {
				db.commit(ops)
				continue
			}
			if closed {
				return
			}
			break
		}
	}
}

// take removes and returns the oldest queued ops, at most db.maxBatch, and
// reports whether the DB is closed.
func (db *DB) take() (ops []*op, closed bool) {
	db.mu.Lock()
	defer db.mu.Unlock()
	n := min(len(db.pending), db.maxBatch)
	ops = slices.Clone(db.pending[:n])
	db.pending = slices.Delete(db.pending, 0, n)
	return ops, db.closed
}

// commit runs ops in one transaction and reports to their callers. If the
// transaction fails, every op gets the error and none of them is stored.
func (db *DB) commit(ops []*op) {
	start := time.Now()
	err := db.commitTx(ops)
	db.writeFailed.Store(err != nil)
	if err == nil {
		db.batches.Add(1)
		db.ops.Add(int64(len(ops)))
		db.observe(len(ops), time.Since(start))
	}
	for _, o := range ops {
		if err != nil {
			o.err = err
		}
		close(o.done)
	}
}

const updateLastSeq = `
	UPDATE rooms
	SET last_seq = ?
	WHERE id = ?`

func (db *DB) commitTx(ops []*op) error {
	// The callers' contexts are not used: once an op is in a transaction,
	// it completes, whoever gave up waiting.
	ctx := context.Background()
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin write: %w", err)
	}
	defer tx.Rollback()

	b := &batch{
		tx:       tx,
		prepared: db.prepared,
		at:       fromMillis(db.now().UnixMilli()),
		rooms:    map[string]*roomState{},
		known:    db.known,
	}
	for _, o := range ops {
		err := o.do(ctx, b)
		var perr *parley.Error
		switch {
		case errors.As(err, &perr):
			o.err = err
		case err != nil:
			return err
		}
	}
	for _, r := range b.rooms {
		if !r.changed {
			continue
		}
		if _, err := b.exec(ctx, updateLastSeq, r.lastSeq, r.id); err != nil {
			return fmt.Errorf("update room: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit write: %w", err)
	}
	// Only committed state is remembered: after a failed transaction the
	// next batch starts from what the database holds.
	for _, name := range b.deleted {
		db.known.forget(name)
	}
	for name, r := range b.rooms {
		r.changed = false
		db.known.put(name, r)
	}
	return nil
}

// A batch is one write transaction of the writer goroutine.
type batch struct {
	tx       *sql.Tx
	prepared map[string]*sql.Stmt // by query; the DB's, read-only
	// at stamps everything the batch stores: its commit time, to the
	// millisecond.
	at time.Time
	// rooms caches the rooms the batch has read; commitTx saves the
	// changed sequence numbers.
	rooms map[string]*roomState
	// known is the DB's memory of committed room states, which the batch
	// reads but never changes.
	known *roomCache
	// swept is set once the batch has swept expired sessions.
	swept bool
	// deleted names the rooms the batch deleted, which the DB forgets at
	// commit, before it remembers those of rooms (a room made anew
	// under a deleted one's name).
	deleted []string
}

// stmt returns query prepared for b's transaction. Open prepares the
// writer's statements (writeQueries) once: parsing SQL costs more than
// running them.
func (b *batch) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s := b.prepared[query]; s != nil {
		return b.tx.StmtContext(ctx, s), nil
	}
	return b.tx.PrepareContext(ctx, query)
}

func (b *batch) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s, err := b.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

// queryRow runs a query that returns at most one row and scans it into dest.
func (b *batch) queryRow(ctx context.Context, dest []any, query string, args ...any) error {
	s, err := b.stmt(ctx, query)
	if err != nil {
		return err
	}
	return s.QueryRowContext(ctx, args...).Scan(dest...)
}

// maxKnownRooms is about how many rooms the writer remembers: more than
// receive appends in any moment of a busy server, few enough that a server
// with a million rooms, most of them quiet, does not hold them all.
const maxKnownRooms = 4096

// A roomCache remembers the most recently used room states, between n and
// 2n of them: when the current generation holds n, it becomes the older
// one and the generation before is forgotten. A room found in the older
// generation moves to the current one.
type roomCache struct {
	n              int
	current, older map[string]*roomState
}

func newRoomCache(n int) *roomCache {
	return &roomCache{n: n, current: make(map[string]*roomState)}
}

func (c *roomCache) get(name string) *roomState {
	if r := c.current[name]; r != nil {
		return r
	}
	r := c.older[name]
	if r != nil {
		c.put(name, r)
	}
	return r
}

func (c *roomCache) forget(name string) {
	delete(c.current, name)
	delete(c.older, name)
}

func (c *roomCache) put(name string, r *roomState) {
	c.current[name] = r
	if len(c.current) >= c.n {
		c.older, c.current = c.current, make(map[string]*roomState)
	}
}

type roomState struct {
	id        int64
	createdAt time.Time
	lastSeq   int64
	archived  bool // the room takes no message, edit or deletion
	changed   bool // lastSeq must be saved
}

const selectRoomState = `
	SELECT id, created_at, last_seq, archived_at IS NOT NULL
	FROM rooms
	WHERE name = ?`

// room returns the state of the room named name, or a NotFound error. The
// writer goroutine is the database's only writer, so a room it has
// committed to before needs no reading: a copy of the remembered state
// serves, which saves a query per room and batch when appends spread over
// many rooms.
func (b *batch) room(ctx context.Context, name string) (*roomState, error) {
	if r := b.rooms[name]; r != nil {
		return r, nil
	}
	if k := b.known.get(name); k != nil && !slices.Contains(b.deleted, name) {
		r := *k
		b.rooms[name] = &r
		return &r, nil
	}
	var createdAt int64
	r := &roomState{}
	err := b.queryRow(ctx, []any{&r.id, &createdAt, &r.lastSeq, &r.archived}, selectRoomState, name)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, errNoRoom(name)
	case err != nil:
		return nil, fmt.Errorf("read room %q: %w", name, err)
	}
	r.createdAt = fromMillis(createdAt)
	b.rooms[name] = r
	return r, nil
}

const insertRoom = `
	INSERT INTO rooms (name, created_at)
	VALUES (?, ?)
	ON CONFLICT (name) DO NOTHING`

// ensureRoom returns the room named name, creating it when needed, unless
// its name is a server-made one.
func (b *batch) ensureRoom(ctx context.Context, name string) (*parley.Room, error) {
	if !parley.ServerMade(name) {
		if _, err := b.exec(ctx, insertRoom, name, b.at.UnixMilli()); err != nil {
			return nil, fmt.Errorf("create room %q: %w", name, err)
		}
	}
	r, err := b.room(ctx, name)
	if err != nil {
		return nil, err
	}
	room := &parley.Room{Name: name, CreatedAt: r.createdAt, LastSeq: r.lastSeq}
	var archivedAt sql.NullInt64
	if err := b.queryRow(ctx, []any{&room.Kind, &room.Title, &room.Topic, &room.Owner, &archivedAt, &room.Description}, `
		SELECT kind, title, topic, owner, archived_at, description
		FROM rooms
		WHERE id = ?`, r.id); err != nil {
		return nil, fmt.Errorf("read room %q: %w", name, err)
	}
	room.ArchivedAt = fromNullMillis(archivedAt)
	return room, nil
}

// selectByClientID finds an entry by its sender and client id, with the
// partial index entries_client_id (whose condition the query repeats, so
// that SQLite uses it).
const selectByClientID = `
	SELECT seq, kind, text, target, edited, deleted, at
	FROM entries
	WHERE room_id = ? AND sender = ? AND client_id = ? AND client_id <> ''`

// appendMessage stores e, or finds the entry that a send with the same
// room, sender and client id stored before and reports dup true. Either way
// it fills in e's Seq and At, and, for a duplicate, the rest.
func (b *batch) appendMessage(ctx context.Context, e *parley.Entry) (dup bool, err error) {
	r, err := b.room(ctx, e.Room)
	if err != nil {
		return false, err
	}
	if r.archived {
		// Only a retry of what the room took before it was archived.
		if found, err := b.original(ctx, r, e); err != nil || found {
			return found, err
		}
		return false, parley.ErrArchived(e.Room)
	}
	// Most sends are new, so store first and look for the original only
	// when the unique index entries_client_id says it is there. The
	// transaction sees the messages stored earlier in this batch, so a retry
	// queued together with its original is a duplicate too.
	if stored, err := b.insert(ctx, r, e); err != nil || stored {
		return false, err
	}
	if found, err := b.original(ctx, r, e); err != nil || !found {
		return false, cmp.Or(err, fmt.Errorf("find entry %q from %q in %q: not there", e.ClientID, e.From, e.Room))
	}
	return true, nil
}

// original sets *e to the entry of e's room with e's sender and client id,
// if there is one, and reports whether there is.
func (b *batch) original(ctx context.Context, r *roomState, e *parley.Entry) (found bool, err error) {
	var kind string
	var at int64
	err = b.queryRow(ctx, []any{&e.Seq, &kind, &e.Text, &e.Target, &e.Edited, &e.Deleted, &at},
		selectByClientID, r.id, e.From, e.ClientID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("find entry %q from %q in %q: %w", e.ClientID, e.From, e.Room, err)
	}
	e.Kind, e.At = entryKind([]byte(kind)), fromMillis(at)
	return true, nil
}

// The statements of amend.
const (
	selectTarget = `
		SELECT kind, sender, deleted
		FROM entries
		WHERE room_id = ? AND seq = ?`
	updateEdited = `
		UPDATE entries
		SET text = ?, edited = ?
		WHERE room_id = ? AND seq = ?`
	updateDeleted = `
		UPDATE entries
		SET text = '', deleted = ?
		WHERE room_id = ? AND seq = ?`
	// updateDeletedEdits walks the index entries_target.
	updateDeletedEdits = `
		UPDATE entries
		SET text = '', deleted = ?
		WHERE room_id = ? AND target = ? AND kind = 'edit'`
)

// amend stores e, an edit or a deletion by e.From (an administrator when
// admin is set) of the message e.Target, and changes the message's row
// (and a deletion, its edits' rows) to match; or finds the entry that an
// amendment with the same room, sender and client id stored before, and
// reports dup true. It returns the errors of parley.Store.Amend, having
// changed nothing.
func (b *batch) amend(ctx context.Context, e *parley.Entry, admin bool) (dup bool, err error) {
	r, err := b.room(ctx, e.Room)
	if err != nil {
		return false, err
	}
	if found, err := b.original(ctx, r, e); err != nil || found {
		return found, err
	}
	if r.archived {
		return false, parley.ErrArchived(e.Room)
	}
	var kind string
	var target parley.Entry
	err = b.queryRow(ctx, []any{&kind, &target.From, &target.Deleted}, selectTarget, r.id, e.Target)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, parley.ErrNoMessage(e)
	case err != nil:
		return false, fmt.Errorf("find message %d of %q: %w", e.Target, e.Room, err)
	}
	if err := checkAmendment(e, kind, &target, admin); err != nil {
		return false, err
	}
	if stored, err := b.insert(ctx, r, e); err != nil || !stored {
		return false, cmp.Or(err, fmt.Errorf("store %s of %q: client id %q taken", e.Kind, e.Room, e.ClientID))
	}
	if e.Kind == parley.KindEdit {
		_, err = b.exec(ctx, updateEdited, e.Text, e.Seq, r.id, e.Target)
	} else {
		_, err = b.exec(ctx, updateDeleted, e.Seq, r.id, e.Target)
		if err == nil {
			_, err = b.exec(ctx, updateDeletedEdits, e.Seq, r.id, e.Target)
		}
	}
	if err != nil {
		return false, fmt.Errorf("%s message %d of %q: %w", e.Kind, e.Target, e.Room, err)
	}
	return false, nil
}

// checkAmendment reports whether e may amend target, an entry of the kind
// kind: a message not deleted, that e.From may edit or delete.
func checkAmendment(e *parley.Entry, kind string, target *parley.Entry, admin bool) error {
	by := parley.Actor{Nick: e.From, Admin: admin}
	switch {
	case kind != string(parley.KindMessage):
		return parley.ErrNoMessage(e)
	case e.Kind == parley.KindEdit && !parley.MayEdit(by, target),
		e.Kind == parley.KindDelete && !parley.MayDelete(by, target):
		return parley.ErrNotYours(e)
	case target.Deleted != 0:
		return parley.ErrAlreadyDeleted(e)
	}
	return nil
}

const insertMember = `
	INSERT INTO members (room_id, nick)
	VALUES (?, ?)
	ON CONFLICT DO NOTHING`

// join makes nick a member of room and returns the join entry, or nil when
// nick is a member already.
func (b *batch) join(ctx context.Context, room, nick string) (*parley.Entry, error) {
	r, err := b.room(ctx, room)
	if err != nil {
		return nil, err
	}
	res, err := b.exec(ctx, insertMember, r.id, nick)
	if err != nil {
		return nil, fmt.Errorf("add %q to %q: %w", nick, room, err)
	}
	return b.membershipChanged(ctx, r, res, &parley.Entry{Room: room, Kind: parley.KindJoin, From: nick})
}

const deleteMember = `
	DELETE FROM members
	WHERE room_id = ? AND nick = ?`

// leave ends nick's membership of room and returns the leave entry, or nil
// when nick is not a member.
func (b *batch) leave(ctx context.Context, room, nick string) (*parley.Entry, error) {
	r, err := b.room(ctx, room)
	if err != nil {
		return nil, err
	}
	res, err := b.exec(ctx, deleteMember, r.id, nick)
	if err != nil {
		return nil, fmt.Errorf("remove %q from %q: %w", nick, room, err)
	}
	return b.membershipChanged(ctx, r, res, &parley.Entry{Room: room, Kind: parley.KindLeave, From: nick})
}

// changeQuietly runs query (insertMember or deleteMember) for nick in
// room, and returns an entry that says what changed, not stored, or nil
// when nothing did.
func (b *batch) changeQuietly(ctx context.Context, room, nick, query string) (*parley.Entry, error) {
	r, err := b.room(ctx, room)
	if err != nil {
		return nil, err
	}
	res, err := b.exec(ctx, query, r.id, nick)
	if err != nil {
		return nil, fmt.Errorf("change the membership of %q in %q: %w", nick, room, err)
	}
	n, err := res.RowsAffected()
	if err != nil || n == 0 {
		return nil, err
	}
	return &parley.Entry{Room: room, From: nick}, nil
}

// membershipChanged stores e when res changed a row of members.
func (b *batch) membershipChanged(ctx context.Context, r *roomState, res sql.Result, e *parley.Entry) (*parley.Entry, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", e.Kind, e.Room, err)
	}
	if n == 0 {
		return nil, nil
	}
	// Not a message, so the client id index does not apply: it is stored.
	if _, err := b.insert(ctx, r, e); err != nil {
		return nil, err
	}
	return e, nil
}

// insertEntry stores an entry unless it has a client id that the room
// already holds from its sender (the index entries_client_id).
const insertEntry = `
	INSERT INTO entries (room_id, seq, kind, sender, text, client_id, at, target)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (room_id, sender, client_id) WHERE client_id <> '' DO NOTHING`

// insert gives e the room's next sequence number and the batch's time, and
// stores it. It reports false, storing nothing and leaving the room's
// numbering alone, when the room holds e's client id from its sender
// already.
func (b *batch) insert(ctx context.Context, r *roomState, e *parley.Entry) (stored bool, err error) {
	e.Seq = r.lastSeq + 1
	e.At = b.at
	res, err := b.exec(ctx, insertEntry,
		r.id, e.Seq, string(e.Kind), e.From, e.Text, e.ClientID, e.At.UnixMilli(), e.Target)
	if err != nil {
		return false, fmt.Errorf("store %s %d of %q: %w", e.Kind, e.Seq, e.Room, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	r.lastSeq = e.Seq
	r.changed = true
	return true, nil
}

// EnsureRoom returns the room named name, creating it with an empty log when
// it does not exist. It returns Invalid for a bad name. It always goes
// through the writer, without reading first: its caller, the hub, calls it
// only for a room it has just failed to find.
func (db *DB) EnsureRoom(ctx context.Context, name string) (*parley.Room, error) {
	if err := parley.ValidateRoomName(name); err != nil {
		return nil, err
	}
	var r *parley.Room
	err := db.submit(ctx, func(ctx context.Context, b *batch) error {
		var err error
		r, err = b.ensureRoom(ctx, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Append stores the message e in its room's log and sets e.Seq and e.At,
// returning only after the transaction that stores it has committed. It
// returns Invalid for a message that e.ValidateMessage rejects and NotFound
// for an unknown room. When the room holds an entry from e.From with
// e.ClientID already, Append stores nothing, sets *e to the stored entry,
// and reports dup true.
func (db *DB) Append(ctx context.Context, e *parley.Entry) (dup bool, err error) {
	if err := e.ValidateMessage(); err != nil {
		return false, err
	}
	// The writer fills in a copy, so e changes only when the append
	// succeeds.
	stored := *e
	err = db.submit(ctx, func(ctx context.Context, b *batch) error {
		var err error
		dup, err = b.appendMessage(ctx, &stored)
		return err
	})
	if err != nil {
		return false, err
	}
	*e = stored
	return dup, nil
}

// Amend stores e, an edit or a deletion of the message e.Target, in its
// room's log, and changes the message to match, as parley.Store.Amend
// says, returning only after the transaction has committed.
func (db *DB) Amend(ctx context.Context, e *parley.Entry, admin bool) (dup bool, err error) {
	if err := e.ValidateAmendment(); err != nil {
		return false, err
	}
	stored := *e
	err = db.submit(ctx, func(ctx context.Context, b *batch) error {
		var err error
		dup, err = b.amend(ctx, &stored, admin)
		return err
	})
	if err != nil {
		return false, err
	}
	*e = stored
	return dup, nil
}

// Join makes nick a member of room, appending and returning a join entry.
// When nick is a member already it stores nothing and returns nil, nil. It
// returns Invalid for a bad nickname and NotFound for an unknown room.
func (db *DB) Join(ctx context.Context, room, nick string) (*parley.Entry, error) {
	return db.changeMembership(ctx, room, nick, (*batch).join)
}

// Leave ends nick's membership of room, appending and returning a leave
// entry. When nick is not a member it stores nothing and returns nil, nil.
// It returns Invalid for a bad nickname and NotFound for an unknown room.
func (db *DB) Leave(ctx context.Context, room, nick string) (*parley.Entry, error) {
	return db.changeMembership(ctx, room, nick, (*batch).leave)
}

// AddMember makes nick a member of room without a join entry, and
// reports whether nick was not a member before. It returns Invalid for a
// bad nickname and NotFound for an unknown room.
func (db *DB) AddMember(ctx context.Context, room, nick string) (bool, error) {
	e, err := db.changeMembership(ctx, room, nick, func(b *batch, ctx context.Context, room, nick string) (*parley.Entry, error) {
		return b.changeQuietly(ctx, room, nick, insertMember)
	})
	return e != nil, err
}

// RemoveMember ends nick's membership of room without a leave entry, and
// reports whether nick was a member. It returns Invalid for a bad nickname
// and NotFound for an unknown room.
func (db *DB) RemoveMember(ctx context.Context, room, nick string) (bool, error) {
	e, err := db.changeMembership(ctx, room, nick, func(b *batch, ctx context.Context, room, nick string) (*parley.Entry, error) {
		return b.changeQuietly(ctx, room, nick, deleteMember)
	})
	return e != nil, err
}

func (db *DB) changeMembership(ctx context.Context, room, nick string, change func(*batch, context.Context, string, string) (*parley.Entry, error)) (*parley.Entry, error) {
	if err := parley.ValidateNick(nick); err != nil {
		return nil, err
	}
	var e *parley.Entry
	err := db.submit(ctx, func(ctx context.Context, b *batch) error {
		var err error
		e, err = change(b, ctx, room, nick)
		return err
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}
