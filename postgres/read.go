package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley"
)

// Read markers are written, like everything else, by the writers: a mark
// goes to its room's writer, and all the marks of a transaction are one
// statement, so a person reading a busy room, who marks it often, costs a
// row in a statement the transaction sends anyway. Marks take no lock on
// their rooms: they read a room's last number as committed, which is
// enough to refuse a marker beyond it, and never wait for the room's
// appends, here or on other replicas.

// markWork is what a batch reads and writes of read markers.
type markWork struct {
	rooms []string            // the rooms marked, to look up
	found map[string]markRoom // what lookup found of them, by name
	seqs  map[markKey]int64   // the markers to store: the highest of each
}

type markRoom struct{ id, lastSeq int64 }

type markKey struct {
	nickKey string
	roomID  int64
}

const (
	// selectMarkRooms reads rooms without locking them.
	selectMarkRooms = `
		SELECT id, name, last_seq
		FROM rooms
		WHERE name = ANY ($1::text[])`
	// upsertReadMarkers moves markers forward, never back. Its rows come
	// sorted, so that two transactions take the rows' locks in one order.
	upsertReadMarkers = `
		INSERT INTO read_markers (nick_key, room_id, seq)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[])
		ON CONFLICT (nick_key, room_id) DO UPDATE SET seq = excluded.seq
		WHERE read_markers.seq < excluded.seq`
)

// add notes that a mark of the batch is for room.
func (m *markWork) add(room string) {
	if !slices.Contains(m.rooms, room) {
		m.rooms = append(m.rooms, room)
	}
}

// queueRooms queues the lookup of the marked rooms.
func (m *markWork) queueRooms(q *pgx.Batch) {
	if len(m.rooms) == 0 {
		return
	}
	m.found = make(map[string]markRoom, len(m.rooms))
	q.Queue(selectMarkRooms, m.rooms).Query(func(rows pgx.Rows) error {
		var name string
		var r markRoom
		_, err := pgx.ForEachRow(rows, []any{&r.id, &name, &r.lastSeq}, func() error {
			m.found[name] = r
			return nil
		})
		if err != nil {
			return fmt.Errorf("read marked rooms: %w", err)
		}
		return nil
	})
}

// apply checks the mark o against its room and keeps it to store.
func (m *markWork) apply(o *op) {
	r, ok := m.found[o.room]
	switch {
	case !ok:
		o.err = errNoRoom(o.room)
		return
	case o.seq > r.lastSeq:
		o.err = parley.ErrReadBeyondLog(o.room, o.seq, r.lastSeq)
		return
	case o.seq == 0:
		return
	}
	if m.seqs == nil {
		m.seqs = make(map[markKey]int64)
	}
	k := markKey{o.key, r.id}
	m.seqs[k] = max(m.seqs[k], o.seq)
}

// queue queues the storing of the markers.
func (m *markWork) queue(q *pgx.Batch) {
	if len(m.seqs) == 0 {
		return
	}
	keys := make([]markKey, 0, len(m.seqs))
	for k := range m.seqs {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b markKey) int {
		return cmp.Or(cmp.Compare(a.nickKey, b.nickKey), cmp.Compare(a.roomID, b.roomID))
	})
	nickKeys, roomIDs, seqs := make([]string, len(keys)), make([]int64, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		nickKeys[i], roomIDs[i], seqs[i] = k.nickKey, k.roomID, m.seqs[k]
	}
	q.Queue(upsertReadMarkers, nickKeys, roomIDs, seqs)
}

// MarkRead moves nick's read marker in room forward to seq. It returns
// Invalid for a bad nickname or seq, and NotFound for an unknown room.
func (db *DB) MarkRead(ctx context.Context, room, nick string, seq int64) error {
	if err := parley.ValidateNick(nick); err != nil {
		return err
	}
	if err := parley.ValidateReadSeq(seq); err != nil {
		return err
	}
	if !storable(room) {
		if db.isClosed() {
			return ErrClosed
		}
		return errNoRoom(room)
	}
	return db.submit(ctx, room, &op{kind: opMarkRead, room: room, key: parley.NickKey(nick), seq: seq})
}

// ReadMarker returns nick's read marker in room, 0 when there is none.
func (db *DB) ReadMarker(ctx context.Context, room, nick string) (int64, error) {
	if db.isClosed() {
		return 0, ErrClosed
	}
	key := parley.NickKey(nick)
	if !storable(room) || !storable(key) {
		return 0, nil
	}
	var seq int64
	err := db.read.QueryRow(ctx, `
		SELECT m.seq
		FROM read_markers m JOIN rooms r ON r.id = m.room_id
		WHERE m.nick_key = $1 AND r.name = $2`, key, room).Scan(&seq)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("read marker of %q in %q: %w", nick, room, err)
	}
	return seq, nil
}

// ReadMarkers returns nick's read markers in the rooms whose names come
// after after, at most limit, ordered by room name.
func (db *DB) ReadMarkers(ctx context.Context, nick, after string, limit int) ([]parley.ReadMarker, error) {
	if err := parley.ValidateRoomPage(limit); err != nil {
		return nil, err
	}
	if db.isClosed() {
		return nil, ErrClosed
	}
	key := parley.NickKey(nick)
	if !storable(key) || !storable(after) {
		return []parley.ReadMarker{}, nil
	}
	rows, _ := db.read.Query(ctx, `
		SELECT r.name, m.seq
		FROM read_markers m JOIN rooms r ON r.id = m.room_id
		WHERE m.nick_key = $1 AND r.name > $2
		ORDER BY r.name
		LIMIT $3`, key, after, limit)
	markers, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (parley.ReadMarker, error) {
		var m parley.ReadMarker
		err := row.Scan(&m.Room, &m.Seq)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("list read markers of %q: %w", nick, err)
	}
	if markers == nil {
		markers = []parley.ReadMarker{}
	}
	return markers, nil
}

// StoredReadMarkers returns at most limit of the read markers that the DB
// holds, as stored: those whose NickKey and room name, in that order,
// sort after after's (byte-wise, as Go compares strings), in that order.
// To read them all, start with the zero after and pass the last marker of
// each page, until a page is empty. It returns Invalid for a limit below
// 1.
func (db *DB) StoredReadMarkers(ctx context.Context, after parley.StoredReadMarker, limit int) ([]parley.StoredReadMarker, error) {
	if limit < 1 {
		return nil, parley.Errorf(parley.Invalid, "limit must be at least 1.")
	}
	if db.isClosed() {
		return nil, ErrClosed
	}
	rows, _ := db.read.Query(ctx, `
		SELECT m.nick_key, r.name, m.seq
		FROM read_markers m JOIN rooms r ON r.id = m.room_id
		WHERE (m.nick_key, r.name) > ($1, $2)
		ORDER BY m.nick_key, r.name
		LIMIT $3`, after.NickKey, after.Room, limit)
	markers, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (parley.StoredReadMarker, error) {
		var m parley.StoredReadMarker
		err := row.Scan(&m.NickKey, &m.Room, &m.Seq)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("list read markers: %w", err)
	}
	if markers == nil {
		markers = []parley.StoredReadMarker{}
	}
	return markers, nil
}

// importReadMarkers stores markers of rooms given by name.
const importReadMarkers = `
	INSERT INTO read_markers (nick_key, room_id, seq)
	SELECT m.nick_key, rooms.id, m.seq
	FROM unnest($1::text[], $2::text[], $3::bigint[]) AS m (nick_key, room, seq)
	JOIN rooms ON rooms.name = m.room`

// ImportReadMarkers stores read markers as they are, in one transaction.
// It returns NotFound for an unknown room and Invalid for a marker without
// a NickKey or whose Seq is not one of its room's entries, storing
// nothing; and an error, storing nothing, for a marker stored already.
func (db *DB) ImportReadMarkers(ctx context.Context, markers []parley.StoredReadMarker) error {
	if db.isClosed() {
		return ErrClosed
	}
	if len(markers) == 0 {
		return nil
	}
	keys, rooms, seqs := make([]string, len(markers)), make([]string, len(markers)), make([]int64, len(markers))
	for i, m := range markers {
		if !storable(m.Room) {
			return errNoRoom(m.Room)
		}
		if !storable(m.NickKey) {
			return parley.Errorf(parley.Invalid, "A read marker's person must not contain the character U+0000.")
		}
		keys[i], rooms[i], seqs[i] = m.NickKey, m.Room, m.Seq
	}
	return db.importTx(ctx, rooms[0], func(ctx context.Context, tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT name, last_seq FROM rooms WHERE name = ANY ($1::text[])`, rooms)
		last := map[string]int64{}
		var name string
		var seq int64
		if _, err := pgx.ForEachRow(rows, []any{&name, &seq}, func() error { last[name] = seq; return nil }); err != nil {
			return fmt.Errorf("import read markers: %w", err)
		}
		for _, m := range markers {
			l, ok := last[m.Room]
			if !ok {
				return errNoRoom(m.Room)
			}
			if err := checkImportedMarker(m, l); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, importReadMarkers, keys, rooms, seqs); err != nil {
			return fmt.Errorf("import read markers: %w", err)
		}
		return nil
	})
}

// checkImportedMarker reports whether m can be imported into a room whose
// last entry is last.
func checkImportedMarker(m parley.StoredReadMarker, last int64) error {
	switch {
	case m.NickKey == "":
		return parley.Errorf(parley.Invalid, "A read marker in %q has no person.", m.Room)
	case m.Seq < 1 || m.Seq > last:
		return parley.ErrReadBeyondLog(m.Room, m.Seq, last)
	}
	return nil
}
