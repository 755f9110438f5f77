package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/parley-chat/parley"
)

// The methods below, beyond parley.Store, let `parley migrate copy` move a
// whole store into another as it is: sessions under their token hashes,
// rooms with their creation times, entries with their sequence numbers and
// times. A copy reads the source with Rooms, Entries, Members and Sessions,
// and writes the target, which must be empty, with the Import methods, a
// transaction of the caller's size each. The imports go through the writer
// goroutine, like every write.
//
// Each Import method either stores all it is given or nothing; a
// *parley.Error says what was wrong with the input (an unknown room, a log
// out of order) before anything was stored.

// Sessions returns at most limit of the sessions that the DB holds, expired
// ones included, as stored: those whose token hash sorts after after, in
// the order of their token hashes. To read them all, start with after ""
// and pass the last hash of each page, until a page is empty. It returns
// Invalid for a limit below 1.
func (db *DB) Sessions(ctx context.Context, after string, limit int) ([]parley.StoredSession, error) {
	if limit < 1 {
		return nil, parley.Errorf(parley.Invalid, "limit must be at least 1.")
	}
	if db.isClosed() {
		return nil, ErrClosed
	}
	rows, err := db.read.QueryContext(ctx, `
		SELECT token_hash, nick, kind, label, created_at, expires_at
		FROM sessions
		WHERE token_hash > ?
		ORDER BY token_hash
		LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	sessions := []parley.StoredSession{}
	for rows.Next() {
		var s parley.StoredSession
		var createdAt, expiresAt int64
		if err := rows.Scan(&s.TokenHash, &s.Nick, &s.Kind, &s.Label, &createdAt, &expiresAt); err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		s.ID = s.TokenHash
		s.CreatedAt, s.ExpiresAt = fromMillis(createdAt), fromMillis(expiresAt)
		sessions = append(sessions, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return sessions, nil
}

// importRoom creates a room with the creation time given, or gives that
// time to a room that exists with an empty log, as parley.DefaultRoom does
// in every store.
const importRoom = `
	INSERT INTO rooms (name, created_at, kind, title, topic, owner, archived_at, description)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (name) DO UPDATE SET created_at = excluded.created_at,
		kind = excluded.kind, title = excluded.title, topic = excluded.topic, owner = excluded.owner,
		description = excluded.description,
		archived_at = excluded.archived_at
	WHERE last_seq = 0`

// ImportRooms creates rooms with their names, creation times and archive
// times (to the millisecond) and empty logs, in one transaction; their LastSeq is
// ignored: ImportEntries advances it. A room that exists already with an
// empty log takes the creation time given. It returns Invalid for a bad
// name, and an error, storing nothing, when a room exists already with
// entries.
func (db *DB) ImportRooms(ctx context.Context, rooms []*parley.Room) error {
	for _, r := range rooms {
		if err := parley.ValidateRoomName(r.Name); err != nil {
			return err
		}
	}
	return db.submit(ctx, func(ctx context.Context, b *batch) error {
		insert, err := b.stmt(ctx, importRoom)
		if err != nil {
			return fmt.Errorf("import rooms: %w", err)
		}
		for _, r := range rooms {
			kind := r.Kind
			if kind == "" {
				kind = parley.RoomPublic
			}
			var archivedAt any // NULL
			if r.ArchivedAt != nil {
				archivedAt = r.ArchivedAt.UnixMilli()
			}
			res, err := insert.ExecContext(ctx, r.Name, r.CreatedAt.UnixMilli(), string(kind), r.Title, r.Topic, r.Owner, archivedAt, r.Description)
			if err != nil {
				return fmt.Errorf("import room %q: %w", r.Name, err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return fmt.Errorf("import room %q: %w", r.Name, err)
			} else if n == 0 {
				return fmt.Errorf("import room %q: the room exists already, with entries", r.Name)
			}
			// The writer may remember the room, with another creation
			// time: what this transaction reads replaces it at commit.
			var createdAt int64
			s := &roomState{}
			if err := b.queryRow(ctx, []any{&s.id, &createdAt, &s.lastSeq, &s.archived}, selectRoomState, r.Name); err != nil {
				return fmt.Errorf("import room %q: %w", r.Name, err)
			}
			s.createdAt = fromMillis(createdAt)
			b.rooms[r.Name] = s
		}
		return nil
	})
}

const importEntry = `
	INSERT INTO entries (room_id, seq, kind, sender, text, client_id, at, target, edited, deleted)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// ImportEntries stores entries as they are (room, sequence number, kind,
// sender, text, client id, time to the millisecond, and the target,
// edited and deleted numbers of edits, deletions and messages) at the end of their
// rooms' logs, in one transaction, and advances each room's LastSeq to its
// last entry's number. It returns NotFound for an unknown room and Invalid
// when a room's entries are not in ascending order of number after its
// LastSeq, storing nothing; and an error, storing nothing, when an entry
// clashes with one stored (an entry whose client id its sender used
// already in the room).
func (db *DB) ImportEntries(ctx context.Context, entries []*parley.Entry) error {
	return db.submit(ctx, func(ctx context.Context, b *batch) error {
		// Check everything first: an op's *parley.Error must leave the
		// database as it was.
		last := map[string]int64{}
		for _, e := range entries {
			r, err := b.room(ctx, e.Room)
			if err != nil {
				return err
			}
			prev, ok := last[e.Room]
			if !ok {
				prev = r.lastSeq
			}
			if e.Seq <= prev {
				return parley.Errorf(parley.Invalid, "Entry %d of room %q does not follow entry %d.", e.Seq, e.Room, prev)
			}
			last[e.Room] = e.Seq
		}
		insert, err := b.stmt(ctx, importEntry)
		if err != nil {
			return fmt.Errorf("import entries: %w", err)
		}
		for _, e := range entries {
			r := b.rooms[e.Room]
			if _, err := insert.ExecContext(ctx, r.id, e.Seq, string(e.Kind), e.From, e.Text, e.ClientID, e.At.UnixMilli(), e.Target, e.Edited, e.Deleted); err != nil {
				return fmt.Errorf("import entry %d of %q: %w", e.Seq, e.Room, err)
			}
			r.lastSeq, r.changed = e.Seq, true
		}
		return nil
	})
}

const importMember = `
	INSERT INTO members (room_id, nick)
	VALUES (?, ?)`

// ImportMembers stores memberships, in one transaction, without log
// entries: the logs hold the joins already. It returns NotFound for an
// unknown room, storing nothing, and an error, storing nothing, for a
// membership stored already.
func (db *DB) ImportMembers(ctx context.Context, members []parley.Member) error {
	return db.submit(ctx, func(ctx context.Context, b *batch) error {
		for _, m := range members {
			if _, err := b.room(ctx, m.Room); err != nil {
				return err
			}
		}
		insert, err := b.stmt(ctx, importMember)
		if err != nil {
			return fmt.Errorf("import members: %w", err)
		}
		for _, m := range members {
			if _, err := insert.ExecContext(ctx, b.rooms[m.Room].id, m.Nick); err != nil {
				return fmt.Errorf("import member %q of %q: %w", m.Nick, m.Room, err)
			}
		}
		return nil
	})
}

const importSession = `
	INSERT INTO sessions (token_hash, nick, nick_key, kind, label, created_at, expires_at)
	VALUES (?, ?, ?, ?, ?, ?, ?)`

// ImportSessions stores sessions as they are (token hash, nickname, kind,
// label, times to the millisecond), expired or not, in one transaction, so
// that whoever holds their tokens stays signed in; a session without a kind
// is a guest's. It returns an error, storing nothing, when a session
// clashes with one stored: the same token hash, or a guest's nickname with
// the same parley.NickKey.
func (db *DB) ImportSessions(ctx context.Context, sessions []parley.StoredSession) error {
	for _, s := range sessions {
		if s.TokenHash == "" {
			return parley.Errorf(parley.Invalid, "A session needs its token's hash.")
		}
	}
	return db.submit(ctx, func(ctx context.Context, b *batch) error {
		insert, err := b.stmt(ctx, importSession)
		if err != nil {
			return fmt.Errorf("import sessions: %w", err)
		}
		for _, s := range sessions {
			kind := s.Kind
			if kind == "" {
				kind = parley.SessionGuest
			}
			_, err := insert.ExecContext(ctx, s.TokenHash, s.Nick, parley.NickKey(s.Nick), string(kind), s.Label, s.CreatedAt.UnixMilli(), s.ExpiresAt.UnixMilli())
			if err != nil {
				return fmt.Errorf("import session of %q: %w", s.Nick, err)
			}
		}
		return nil
	})
}

// Accounts returns at most limit of the accounts that the DB holds,
// deactivated ones included, with their password hashes: those whose
// parley.NickKey sorts after after's, in that order. To read them all,
// start with after "" and pass the last name of each page, until a page
// is empty. It returns Invalid for a limit below 1.
func (db *DB) Accounts(ctx context.Context, after string, limit int) ([]*parley.Account, error) {
	if limit < 1 {
		return nil, parley.Errorf(parley.Invalid, "limit must be at least 1.")
	}
	if db.isClosed() {
		return nil, ErrClosed
	}
	afterKey := ""
	if after != "" {
		afterKey = parley.NickKey(after)
	}
	rows, err := db.read.QueryContext(ctx, `
		SELECT name, display_name, password_hash, admin, created_at, deactivated_at
		FROM accounts
		WHERE name_key > ?
		ORDER BY name_key
		LIMIT ?`, afterKey, limit)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	defer rows.Close()
	accounts := []*parley.Account{}
	for rows.Next() {
		a := &parley.Account{}
		var createdAt int64
		var deactivated sql.NullInt64
		if err := rows.Scan(&a.Name, &a.DisplayName, &a.PasswordHash, &a.Admin, &createdAt, &deactivated); err != nil {
			return nil, fmt.Errorf("list accounts: %w", err)
		}
		a.CreatedAt = fromMillis(createdAt)
		if deactivated.Valid {
			a.Deactivated = fromMillis(deactivated.Int64)
		}
		accounts = append(accounts, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return accounts, nil
}

// ImportAccounts stores accounts as they are (password hashes, times to
// the millisecond, deactivated or not) in one transaction. It returns an
// error, storing nothing, when an account is invalid or its name clashes
// with an account stored.
func (db *DB) ImportAccounts(ctx context.Context, accounts []*parley.Account) error {
	for _, a := range accounts {
		if err := a.Validate(); err != nil {
			return err
		}
	}
	return db.submit(ctx, func(ctx context.Context, b *batch) error {
		for _, a := range accounts {
			var deactivated any
			if !a.Deactivated.IsZero() {
				deactivated = a.Deactivated.UnixMilli()
			}
			_, err := b.exec(ctx, `
				INSERT INTO accounts (name_key, name, display_name, password_hash, admin, created_at, deactivated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`,
				parley.NickKey(a.Name), a.Name, a.DisplayName, a.PasswordHash, a.Admin, a.CreatedAt.UnixMilli(), deactivated)
			if err != nil {
				return fmt.Errorf("import account %q: %w", a.Name, err)
			}
		}
		return nil
	})
}

// ImportRoomMembers stores who may see private and direct rooms, as they
// were, in one transaction. It returns NotFound, storing nothing, for a
// room it does not have.
func (db *DB) ImportRoomMembers(ctx context.Context, members []parley.RoomMember) error {
	return db.submit(ctx, func(ctx context.Context, b *batch) error {
		ids := make([]int64, len(members))
		for i, m := range members { // every room first: a refusal stores nothing
			r, err := b.room(ctx, m.Room)
			if err != nil {
				return err
			}
			ids[i] = r.id
		}
		for i, m := range members {
			if _, err := b.exec(ctx, `
				INSERT INTO room_access (room_id, name_key, name, role)
				VALUES (?, ?, ?, ?)`, ids[i], parley.NickKey(m.Name), m.Name, string(m.Role)); err != nil {
				return fmt.Errorf("import member %q of %q: %w", m.Name, m.Room, err)
			}
		}
		return nil
	})
}
