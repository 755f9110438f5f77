package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/parley-chat/parley"
)

// Read markers are written, like everything else, through the writer
// goroutine: a person reading a busy room marks it often, and each mark is
// one statement in whatever transaction the writer commits next, so marks
// share the commits of the chat traffic.

const (
	// upsertReadMarker moves a marker forward, never back.
	upsertReadMarker = `
		INSERT INTO read_markers (nick_key, room_id, seq)
		VALUES (?, ?, ?)
		ON CONFLICT (nick_key, room_id) DO UPDATE SET seq = excluded.seq
		WHERE excluded.seq > read_markers.seq`
	selectReadMarker = `
		SELECT m.seq
		FROM read_markers m JOIN rooms r ON r.id = m.room_id
		WHERE m.nick_key = ? AND r.name = ?`
)

// MarkRead moves nick's read marker in room forward to seq. It returns
// Invalid for a bad nickname or seq, and NotFound for an unknown room.
func (db *DB) MarkRead(ctx context.Context, room, nick string, seq int64) error {
	if err := parley.ValidateNick(nick); err != nil {
		return err
	}
	if err := parley.ValidateReadSeq(seq); err != nil {
		return err
	}
	key := parley.NickKey(nick)
	return db.submit(ctx, func(ctx context.Context, b *batch) error {
		r, err := b.room(ctx, room)
		switch {
		case err != nil:
			return err
		case seq > r.lastSeq:
			return parley.ErrReadBeyondLog(room, seq, r.lastSeq)
		case seq == 0:
			return nil
		}
		if _, err := b.exec(ctx, upsertReadMarker, key, r.id, seq); err != nil {
			return fmt.Errorf("mark %q read by %q: %w", room, nick, err)
		}
		return nil
	})
}

// ReadMarker returns nick's read marker in room, 0 when there is none.
func (db *DB) ReadMarker(ctx context.Context, room, nick string) (int64, error) {
	if db.isClosed() {
		return 0, ErrClosed
	}
	var seq int64
	err := db.readStmts[selectReadMarker].QueryRowContext(ctx, parley.NickKey(nick), room).Scan(&seq)
	switch {
	case errors.Is(err, sql.ErrNoRows):
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
	rows, err := db.read.QueryContext(ctx, `
		SELECT r.name, m.seq
		FROM read_markers m JOIN rooms r ON r.id = m.room_id
		WHERE m.nick_key = ? AND r.name > ?
		ORDER BY r.name
		LIMIT ?`, parley.NickKey(nick), after, limit)
	if err != nil {
		return nil, fmt.Errorf("list read markers of %q: %w", nick, err)
	}
	defer rows.Close()
	markers := []parley.ReadMarker{}
	for rows.Next() {
		var m parley.ReadMarker
		if err := rows.Scan(&m.Room, &m.Seq); err != nil {
			return nil, fmt.Errorf("list read markers of %q: %w", nick, err)
		}
		markers = append(markers, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list read markers of %q: %w", nick, err)
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
	rows, err := db.read.QueryContext(ctx, `
		SELECT m.nick_key, r.name, m.seq
		FROM read_markers m JOIN rooms r ON r.id = m.room_id
		WHERE (m.nick_key, r.name) > (?, ?)
		ORDER BY m.nick_key, r.name
		LIMIT ?`, after.NickKey, after.Room, limit)
	if err != nil {
		return nil, fmt.Errorf("list read markers: %w", err)
	}
	defer rows.Close()
	markers := []parley.StoredReadMarker{}
	for rows.Next() {
		var m parley.StoredReadMarker
		if err := rows.Scan(&m.NickKey, &m.Room, &m.Seq); err != nil {
			return nil, fmt.Errorf("list read markers: %w", err)
		}
		markers = append(markers, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list read markers: %w", err)
	}
	return markers, nil
}

const importReadMarker = `
	INSERT INTO read_markers (nick_key, room_id, seq)
	VALUES (?, ?, ?)`

// ImportReadMarkers stores read markers as they are, in one transaction.
// It returns NotFound for an unknown room and Invalid for a marker without
// a NickKey or whose Seq is not one of its room's entries, storing
// nothing; and an error, storing nothing, for a marker stored already.
func (db *DB) ImportReadMarkers(ctx context.Context, markers []parley.StoredReadMarker) error {
	return db.submit(ctx, func(ctx context.Context, b *batch) error {
		// Check everything first: an op's *parley.Error must leave the
		// database as it was.
		for _, m := range markers {
			r, err := b.room(ctx, m.Room)
			if err != nil {
				return err
			}
			if err := checkImportedMarker(m, r.lastSeq); err != nil {
				return err
			}
		}
		for _, m := range markers {
			if _, err := b.exec(ctx, importReadMarker, m.NickKey, b.rooms[m.Room].id, m.Seq); err != nil {
				return fmt.Errorf("import read marker of %q in %q: %w", m.NickKey, m.Room, err)
			}
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
