package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley"
)

// The methods below, beyond parley.Store, let `parley migrate copy` move a
// whole store into another as it is: accounts with their password hashes,
// sessions under their token hashes, rooms with their creation times,
// kinds, texts and who may see them, entries with their sequence numbers
// and times. A copy reads the source with Rooms, Entries, Members,
// RoomMembers, Accounts and Sessions, and writes the target, which must be
// empty, with the Import methods, a transaction of the caller's size
// each, in a few round trips whatever its size. The
// imports go through the writers, like every write, and lock the rows of
// the rooms they add to, so a replica appending meanwhile cannot make a
// room's numbering go wrong: one of the two fails.
//
// Each Import method either stores all it is given or nothing; a
// *parley.Error says what was wrong with the input (an unknown room, a log
// out of order) before anything was stored.

// Sessions returns at most limit of the sessions that the DB holds, expired
// ones included, as stored (TokenHash and ID both the token's hash, Kind
// and Label as made, Admin false): those whose token hash sorts after
// after, in the order of their token hashes (in the column's collation).
// To read them all, start with after "" and pass the last hash of each
// page, until a page is empty. It returns Invalid for a limit below 1.
func (db *DB) Sessions(ctx context.Context, after string, limit int) ([]parley.StoredSession, error) {
	if limit < 1 {
		return nil, parley.Errorf(parley.Invalid, "limit must be at least 1.")
	}
	if db.isClosed() {
		return nil, ErrClosed
	}
	rows, _ := db.read.Query(ctx, `
		SELECT token_hash, nick, kind, label, created_at, expires_at
		FROM sessions
		WHERE token_hash > $1
		ORDER BY token_hash
		LIMIT $2`, after, limit)
	sessions, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (parley.StoredSession, error) {
		var s parley.StoredSession
		err := row.Scan(&s.TokenHash, &s.Nick, &s.Kind, &s.Label, &s.CreatedAt, &s.ExpiresAt)
		s.ID = s.TokenHash
		s.CreatedAt, s.ExpiresAt = s.CreatedAt.UTC(), s.ExpiresAt.UTC()
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	if sessions == nil {
		sessions = []parley.StoredSession{}
	}
	return sessions, nil
}

// Accounts returns at most limit of the accounts that the DB holds,
// deactivated ones included, as stored, password hashes included: those
// whose names' parley.NickKey sorts after after's (byte-wise, as Go
// compares strings), in that order. To read them all, start with after ""
// and pass the name of the last account of each page, until a page is
// empty. It returns Invalid for a limit below 1.
func (db *DB) Accounts(ctx context.Context, after string, limit int) ([]*parley.Account, error) {
	if limit < 1 {
		return nil, parley.Errorf(parley.Invalid, "limit must be at least 1.")
	}
	if db.isClosed() {
		return nil, ErrClosed
	}
	if !storable(after) {
		return nil, parley.Errorf(parley.Invalid, "after must be valid UTF-8 without U+0000.")
	}
	rows, _ := db.read.Query(ctx, `
		SELECT name, display_name, password_hash, admin, created_at, deactivated_at
		FROM accounts
		WHERE name_key > $1
		ORDER BY name_key
		LIMIT $2`, parley.NickKey(after), limit)
	accounts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*parley.Account, error) {
		a := &parley.Account{}
		var deactivated *time.Time
		err := row.Scan(&a.Name, &a.DisplayName, &a.PasswordHash, &a.Admin, &a.CreatedAt, &deactivated)
		a.CreatedAt = a.CreatedAt.UTC()
		if deactivated != nil {
			a.Deactivated = deactivated.UTC()
		}
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	if accounts == nil {
		accounts = []*parley.Account{}
	}
	return accounts, nil
}

// importRooms creates rooms as given, or makes rooms that exist with
// empty logs, as parley.DefaultRoom does in every store, as given.
const importRooms = `
	INSERT INTO rooms (name, created_at, kind, title, topic, owner, archived_at, description)
	SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::text[])
	ON CONFLICT (name) DO UPDATE SET created_at = excluded.created_at,
		kind = excluded.kind, title = excluded.title, topic = excluded.topic, owner = excluded.owner,
		description = excluded.description,
		archived_at = excluded.archived_at
	WHERE rooms.last_seq = 0`

// ImportRooms creates rooms with their names, creation times (to the
// microsecond), kinds (public if none), titles, topics, owners and archive
// times, and
// empty logs, in one transaction; their LastSeq is ignored: ImportEntries
// advances it. A room that exists already with an empty log takes what is
// given. It returns Invalid for a bad name or kind, or texts that
// PostgreSQL cannot hold, and an error, storing nothing, when a room
// exists already with entries.
func (db *DB) ImportRooms(ctx context.Context, rooms []*parley.Room) error {
	if db.isClosed() {
		return ErrClosed
	}
	if len(rooms) == 0 {
		return nil
	}
	n := len(rooms)
	names, kinds, titles, topics, owners, descriptions := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	times, archived := make([]time.Time, n), make([]*time.Time, n)
	for i, r := range rooms {
		if err := parley.ValidateRoomName(r.Name); err != nil {
			return err
		}
		kind := r.Kind
		switch kind {
		case "":
			kind = parley.RoomPublic
		case parley.RoomPublic, parley.RoomPrivate, parley.RoomDirect:
		default:
			return parley.Errorf(parley.Invalid, "A room is of kind %q, %q or %q.", parley.RoomPublic, parley.RoomPrivate, parley.RoomDirect)
		}
		if !storable(r.Title) || !storable(r.Topic) || !storable(r.Owner) || !storable(r.Description) {
			return parley.Errorf(parley.Invalid, "A room's title, topic, description and owner must be valid UTF-8 without U+0000.")
		}
		names[i], times[i] = r.Name, stamp(r.CreatedAt)
		if r.ArchivedAt != nil {
			at := stamp(*r.ArchivedAt)
			archived[i] = &at
		}
		kinds[i], titles[i], topics[i], owners[i], descriptions[i] = string(kind), r.Title, r.Topic, r.Owner, r.Description
	}
	return db.importTx(ctx, names[0], func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, importRooms, names, times, kinds, titles, topics, owners, archived, descriptions)
		if err != nil {
			return fmt.Errorf("import rooms: %w", err)
		}
		if n := tag.RowsAffected(); n != int64(len(rooms)) {
			return fmt.Errorf("import rooms: %d of the %d rooms exist already, with entries", int64(len(rooms))-n, len(rooms))
		}
		return nil
	})
}

// lockImportRooms locks the rows of the rooms that an import adds to, in
// the order of their names, as the writers do.
const lockImportRooms = `
	SELECT id, name, last_seq
	FROM rooms
	WHERE name = ANY ($1::text[])
	ORDER BY name
	FOR UPDATE`

// importEntries stores entries with the numbers and times given.
const importEntries = `
	INSERT INTO entries (room_id, seq, kind, sender, text, client_id, at, target, edited, deleted)
	SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[],
		$8::bigint[], $9::bigint[], $10::bigint[])`

// ImportEntries stores entries as they are (room, sequence number, kind,
// sender, text, client id, time to the microsecond, and the target,
// edited and deleted numbers of edits, deletions and messages) at the end of their
// rooms' logs, in one transaction, and advances each room's LastSeq to its
// last entry's number. It returns NotFound for an unknown room and Invalid
// when a room's entries are not in ascending order of number after its
// LastSeq, storing nothing; and an error, storing nothing, when an entry
// clashes with one stored (an entry whose client id its sender used
// already in the room) or holds text that PostgreSQL cannot (U+0000).
func (db *DB) ImportEntries(ctx context.Context, entries []*parley.Entry) error {
	if db.isClosed() {
		return ErrClosed
	}
	if len(entries) == 0 {
		return nil
	}
	var names []string
	seen := map[string]bool{}
	for _, e := range entries {
		if !storable(e.Room) {
			return errNoRoom(e.Room)
		}
		if !seen[e.Room] {
			seen[e.Room] = true
			names = append(names, e.Room)
		}
	}
	return db.importTx(ctx, entries[0].Room, func(ctx context.Context, tx pgx.Tx) error {
		type room struct{ id, lastSeq int64 }
		rooms := map[string]*room{}
		var (
			name string
			r    room
		)
		rows, _ := tx.Query(ctx, lockImportRooms, names)
		_, err := pgx.ForEachRow(rows, []any{&r.id, &name, &r.lastSeq}, func() error {
			rooms[name] = &room{r.id, r.lastSeq}
			return nil
		})
		if err != nil {
			return fmt.Errorf("import entries: lock rooms: %w", err)
		}
		// Check everything before storing anything: an op's *parley.Error
		// must leave the database as it was.
		last := map[string]int64{}
		for _, e := range entries {
			r := rooms[e.Room]
			if r == nil {
				return errNoRoom(e.Room)
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

		n := len(entries)
		roomIDs, seqs := make([]int64, n), make([]int64, n)
		kinds, senders, texts, clientIDs := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		ats := make([]time.Time, n)
		targets, edited, deleted := make([]int64, n), make([]int64, n), make([]int64, n)
		for i, e := range entries {
			roomIDs[i], seqs[i] = rooms[e.Room].id, e.Seq
			kinds[i], senders[i], texts[i], clientIDs[i] = string(e.Kind), e.From, e.Text, e.ClientID
			ats[i] = stamp(e.At)
			targets[i], edited[i], deleted[i] = e.Target, e.Edited, e.Deleted
		}
		var changed, lastSeqs []int64
		for _, name := range names {
			changed, lastSeqs = append(changed, rooms[name].id), append(lastSeqs, last[name])
		}
		q := &pgx.Batch{}
		q.Queue(importEntries, roomIDs, seqs, kinds, senders, texts, clientIDs, ats, targets, edited, deleted)
		q.Queue(updateLastSeqs, changed, lastSeqs)
		if err := tx.SendBatch(ctx, q).Close(); err != nil {
			return fmt.Errorf("import entries: %w", err)
		}
		return nil
	})
}

// importMembers stores memberships of rooms given by name.
const importMembers = `
	INSERT INTO members (room_id, nick)
	SELECT rooms.id, m.nick
	FROM unnest($1::text[], $2::text[]) AS m (room, nick)
	JOIN rooms ON rooms.name = m.room`

// ImportMembers stores memberships, in one transaction, without log
// entries: the logs hold the joins already. It returns NotFound for an
// unknown room, storing nothing, and an error, storing nothing, for a
// membership stored already.
func (db *DB) ImportMembers(ctx context.Context, members []parley.Member) error {
	if db.isClosed() {
		return ErrClosed
	}
	if len(members) == 0 {
		return nil
	}
	rooms, nicks := make([]string, len(members)), make([]string, len(members))
	for i, m := range members {
		if !storable(m.Room) {
			return errNoRoom(m.Room)
		}
		rooms[i], nicks[i] = m.Room, m.Nick
	}
	return db.importTx(ctx, rooms[0], func(ctx context.Context, tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT name FROM rooms WHERE name = ANY ($1::text[])`, rooms)
		found := map[string]bool{}
		var name string
		if _, err := pgx.ForEachRow(rows, []any{&name}, func() error { found[name] = true; return nil }); err != nil {
			return fmt.Errorf("import members: %w", err)
		}
		for _, name := range rooms {
			if !found[name] {
				return errNoRoom(name)
			}
		}
		tag, err := tx.Exec(ctx, importMembers, rooms, nicks)
		if err != nil {
			return fmt.Errorf("import members: %w", err)
		}
		if n := tag.RowsAffected(); n != int64(len(members)) {
			// Only if a room was deleted since the query above.
			return fmt.Errorf("import members: %d of the %d memberships name no room", int64(len(members))-n, len(members))
		}
		return nil
	})
}

const importSessions = `
	INSERT INTO sessions (token_hash, nick, nick_key, kind, label, created_at, expires_at)
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[])`

// ImportSessions stores sessions as they are (token hash, nickname, kind,
// label, times to the microsecond), expired or not, in one transaction, so
// that whoever holds their tokens stays signed in. A session without a
// kind is a guest's. It returns Invalid, storing nothing, for a session
// without its token's hash, whose ID is not that hash, or of an unknown
// kind; and an error, storing nothing, when a session clashes with one
// stored: the same token hash, or a guest's with a nickname with the same
// parley.NickKey. An account's session is stored under its nickname's key
// whether or not the account is there yet.
func (db *DB) ImportSessions(ctx context.Context, sessions []parley.StoredSession) error {
	if db.isClosed() {
		return ErrClosed
	}
	if len(sessions) == 0 {
		return nil
	}
	n := len(sessions)
	hashes, nicks, keys := make([]string, n), make([]string, n), make([]string, n)
	kinds, labels := make([]string, n), make([]string, n)
	created, expires := make([]time.Time, n), make([]time.Time, n)
	for i, s := range sessions {
		switch {
		case s.TokenHash == "":
			return parley.Errorf(parley.Invalid, "A session needs its token's hash.")
		case s.ID != "" && s.ID != s.TokenHash:
			return parley.Errorf(parley.Invalid, "A session's ID is its token's hash.")
		}
		kind := s.Kind
		switch kind {
		case "":
			kind = parley.SessionGuest
		case parley.SessionGuest, parley.SessionAccount, parley.SessionToken:
		default:
			return parley.Errorf(parley.Invalid, "A session is of kind %q, %q or %q.", parley.SessionGuest, parley.SessionAccount, parley.SessionToken)
		}
		hashes[i], nicks[i], keys[i] = s.TokenHash, s.Nick, parley.NickKey(s.Nick)
		kinds[i], labels[i] = string(kind), s.Label
		created[i], expires[i] = stamp(s.CreatedAt), stamp(s.ExpiresAt)
	}
	return db.importTx(ctx, hashes[0], func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, importSessions, hashes, nicks, keys, kinds, labels, created, expires); err != nil {
			return fmt.Errorf("import sessions: %w", err)
		}
		return nil
	})
}

const importAccounts = `
	INSERT INTO accounts (name, name_key, display_name, password_hash, admin, created_at, deactivated_at)
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::timestamptz[], $7::timestamptz[])`

// ImportAccounts stores accounts as they are (name, display name, password
// hash, admin, creation and deactivation times to the microsecond), in one
// transaction. It returns Invalid, storing nothing, for an account that
// Account.Validate refuses; and an error, storing nothing, when an account
// clashes with one stored: a name with the same parley.NickKey. It does not
// look for guests' sessions of the names: a copy fills an empty store.
func (db *DB) ImportAccounts(ctx context.Context, accounts []*parley.Account) error {
	if db.isClosed() {
		return ErrClosed
	}
	if len(accounts) == 0 {
		return nil
	}
	n := len(accounts)
	names, keys, displayNames, hashes := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	admins := make([]bool, n)
	created, deactivated := make([]time.Time, n), make([]*time.Time, n)
	for i, a := range accounts {
		if err := a.Validate(); err != nil {
			return err
		}
		if !storable(a.PasswordHash) {
			return parley.Errorf(parley.Invalid, "A password hash must not contain the character U+0000.")
		}
		names[i], keys[i], displayNames[i], hashes[i] = a.Name, parley.NickKey(a.Name), a.DisplayName, a.PasswordHash
		admins[i], created[i] = a.Admin, stamp(a.CreatedAt)
		if !a.Deactivated.IsZero() {
			t := stamp(a.Deactivated)
			deactivated[i] = &t
		}
	}
	return db.importTx(ctx, keys[0], func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, importAccounts, names, keys, displayNames, hashes, admins, created, deactivated); err != nil {
			return fmt.Errorf("import accounts: %w", err)
		}
		return nil
	})
}

// importRoomMembers stores who may see rooms given by name.
const importRoomMembers = `
	INSERT INTO room_access (room_id, name_key, name, role)
	SELECT rooms.id, m.name_key, m.name, m.role
	FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS m (room, name_key, name, role)
	JOIN rooms ON rooms.name = m.room`

// ImportRoomMembers stores who may see private and direct rooms, as they
// were, in one transaction. It returns NotFound for an unknown room and
// Invalid for a role that is neither parley.RoleOwner nor
// parley.RoleMember or a name that PostgreSQL cannot hold, storing
// nothing; and an error, storing nothing, when a member is stored already.
func (db *DB) ImportRoomMembers(ctx context.Context, members []parley.RoomMember) error {
	if db.isClosed() {
		return ErrClosed
	}
	if len(members) == 0 {
		return nil
	}
	n := len(members)
	rooms, keys, names, roles := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, m := range members {
		switch {
		case !storable(m.Room):
			return errNoRoom(m.Room)
		case !storable(m.Name):
			return parley.Errorf(parley.Invalid, "A member's name must be valid UTF-8 without U+0000.")
		case m.Role != parley.RoleOwner && m.Role != parley.RoleMember:
			return parley.Errorf(parley.Invalid, "A member of a room is its %q or a %q.", parley.RoleOwner, parley.RoleMember)
		}
		rooms[i], keys[i], names[i], roles[i] = m.Room, parley.NickKey(m.Name), m.Name, string(m.Role)
	}
	return db.importTx(ctx, rooms[0], func(ctx context.Context, tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT name FROM rooms WHERE name = ANY ($1::text[])`, rooms)
		found := map[string]bool{}
		var name string
		if _, err := pgx.ForEachRow(rows, []any{&name}, func() error { found[name] = true; return nil }); err != nil {
			return fmt.Errorf("import room members: %w", err)
		}
		for _, name := range rooms {
			if !found[name] {
				return errNoRoom(name)
			}
		}
		tag, err := tx.Exec(ctx, importRoomMembers, rooms, keys, names, roles)
		if err != nil {
			return fmt.Errorf("import room members: %w", err)
		}
		if n := tag.RowsAffected(); n != int64(len(members)) {
			// Only if a room was deleted since the query above.
			return fmt.Errorf("import room members: %d of the %d members name no room", int64(len(members))-n, len(members))
		}
		return nil
	})
}

// importTx runs exec in a transaction of the writer of key, and returns
// once it has committed or failed. exec returns a *parley.Error only when
// it has changed nothing: the transaction commits what other ops of it did.
func (db *DB) importTx(ctx context.Context, key string, exec func(context.Context, pgx.Tx) error) error {
	return db.submit(ctx, key, &op{kind: opExec, exec: exec})
}
