package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley"
)

// Private and direct rooms, and who may see them (room_access), are read on
// the read pool and written by the writer of the room's name, each change
// an opExec in the transaction of the writes queued with it. A change
// reads everything it checks before it writes anything, so that a refusal
// (a *parley.Error) leaves that transaction as it found it.
//
// Between replicas:
//
//   - Two CreateRooms of one name (the direct room of the same people,
//     asked for on two replicas at once) both insert the room's row. The
//     unique index on rooms.name makes the second wait for the first to
//     commit, then find the name taken (ON CONFLICT DO NOTHING): it
//     answers room_exists, having stored nothing. Should the first roll
//     back, the second makes the room.
//   - An account that CreateRoom or SetRole adds is read FOR SHARE, as
//     insertAccountSession reads it: a deactivation (an UPDATE of the row)
//     waits until the addition has committed, or the addition waits until
//     the deactivation has committed and then, reading the row anew, finds
//     the account deactivated and refuses it.
//   - SetRole and UpdateRoom lock the room's row with the batch's other
//     rooms, in the order of their names (op.room), so they meet the
//     room's other writes in one order on every replica and never in a
//     circle. A room's kind and owner never change, so no lock guards
//     them.

// The statements of the changes of rooms.
const (
	selectRoomExists = `SELECT EXISTS (SELECT 1 FROM rooms WHERE name = $1)`
	// shareAccounts reads the active accounts among the keys $1, and
	// locks them, in the order of their keys, until the transaction ends.
	shareAccounts = `
		SELECT name_key, name
		FROM accounts
		WHERE name_key = ANY ($1::text[]) AND deactivated_at IS NULL
		ORDER BY name_key
		FOR SHARE`
	// insertMadeRoom returns a row only when it stored the room.
	insertMadeRoom = `
		INSERT INTO rooms (name, created_at, kind, title, topic, owner, description)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (name) DO NOTHING
		RETURNING id`
	insertAccess = `
		INSERT INTO room_access (room_id, name_key, name, role)
		SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[])`
	// selectAccess reads a room and the role in it of the name whose key
	// is $2, NULL when they have none.
	selectAccess = `
		SELECT r.id, r.kind, a.role
		FROM rooms r
		LEFT JOIN room_access a ON a.room_id = r.id AND a.name_key = $2
		WHERE r.name = $1`
	addMember = `
		INSERT INTO room_access (room_id, name_key, name, role)
		VALUES ($1, $2, $3, 'member')
		ON CONFLICT DO NOTHING`
	removeMember = `
		DELETE FROM room_access
		WHERE room_id = $1 AND name_key = $2`
	// updateRoom changes what is not NULL of $2 and $3, archives the
	// room ($4 true; at $5, unless archived already) or brings it back
	// ($4 false), and returns a row only when there is a room.
	updateRoom = `
		UPDATE rooms
		SET title = coalesce($2, title), topic = coalesce($3, topic), description = coalesce($6, description),
			archived_at = CASE
				WHEN $4::boolean IS NULL THEN archived_at
				WHEN $4 THEN coalesce(archived_at, $5)
			END
		WHERE name = $1
		RETURNING true`
	// selectRoomID reads the id of a room, whose row DeleteRoom has
	// locked (op.room).
	selectRoomID = `SELECT id FROM rooms WHERE name = $1`
)

// CreateRoom stores the new private or direct room r with the accounts
// that may see it: members, each a parley.RoleMember, and a private room's
// owner, the parley.RoleOwner. It sets r.CreatedAt, and the names in r and
// members to the accounts' own. It returns Invalid for a bad room,
// NotFound when a name has no active account, and Conflict (room_exists)
// when the room exists.
func (db *DB) CreateRoom(ctx context.Context, r *parley.Room, members []string) error {
	o, made, err := newCreateRoom(r, members)
	if err != nil {
		return err
	}
	if err := db.submit(ctx, r.Name, o); err != nil {
		return err
	}
	made()
	return nil
}

// newCreateRoom returns the op of CreateRoom(r, members), and made, which
// sets r and members as CreateRoom does once the op has succeeded. It
// returns what CreateRoom does for a room or members it refuses before
// queueing.
func newCreateRoom(r *parley.Room, members []string) (o *op, made func(), err error) {
	if err := r.ValidateNew(); err != nil {
		return nil, nil, err
	}
	// The people, the owner first, each once: their keys, and the names
	// they were asked for by.
	type grant struct {
		key, asked string
		role       parley.Role
	}
	var grants []grant
	var keys []string
	add := func(name string, role parley.Role) error {
		if !storable(name) {
			return parley.ErrNoAccount(name)
		}
		key := parley.NickKey(name)
		for _, g := range grants {
			if g.key == key {
				return nil
			}
		}
		grants, keys = append(grants, grant{key, name, role}), append(keys, key)
		return nil
	}
	if r.Owner != "" {
		if err := add(r.Owner, parley.RoleOwner); err != nil {
			return nil, nil, err
		}
	}
	for _, m := range members {
		if err := add(m, parley.RoleMember); err != nil {
			return nil, nil, err
		}
	}

	var room parley.Room
	names := make([]string, len(members))
	o = &op{kind: opExec}
	o.exec = func(ctx context.Context, tx pgx.Tx) error {
		var exists bool
		active := map[string]string{} // the accounts' names by key
		q := &pgx.Batch{}
		q.Queue(selectRoomExists, r.Name).QueryRow(func(row pgx.Row) error { return row.Scan(&exists) })
		q.Queue(shareAccounts, keys).Query(func(rows pgx.Rows) error {
			var key, name string
			_, err := pgx.ForEachRow(rows, []any{&key, &name}, func() error {
				active[key] = name
				return nil
			})
			return err
		})
		if err := tx.SendBatch(ctx, q).Close(); err != nil {
			return fmt.Errorf("create room %q: %w", r.Name, err)
		}
		if exists {
			return parley.ErrRoomExists(r.Name)
		}
		accessNames, roles := make([]string, len(grants)), make([]string, len(grants))
		for i, g := range grants {
			name, ok := active[g.key]
			if !ok {
				return parley.ErrNoAccount(g.asked)
			}
			accessNames[i], roles[i] = name, string(g.role)
		}
		room = *r
		room.Owner, room.CreatedAt = "", o.at
		if r.Owner != "" {
			room.Owner = active[parley.NickKey(r.Owner)]
		}
		var id int64
		err := tx.QueryRow(ctx, insertMadeRoom, room.Name, room.CreatedAt, string(room.Kind), room.Title, room.Topic, room.Owner, room.Description).Scan(&id)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			// Made by another replica since the look above.
			return parley.ErrRoomExists(r.Name)
		case err != nil:
			return fmt.Errorf("create room %q: %w", r.Name, err)
		}
		if _, err := tx.Exec(ctx, insertAccess, id, keys, accessNames, roles); err != nil {
			return fmt.Errorf("create room %q: %w", r.Name, err)
		}
		for i, m := range members {
			names[i] = active[parley.NickKey(m)]
		}
		return nil
	}
	return o, func() {
		*r = room
		copy(members, names)
	}, nil
}

// Role returns what the person named name is in room: parley.RoleOwner,
// parley.RoleMember, or "" when they may not see it by membership. It
// returns NotFound when there is no room.
func (db *DB) Role(ctx context.Context, room, name string) (parley.Role, error) {
	if db.isClosed() {
		return "", ErrClosed
	}
	if !storable(room) {
		return "", errNoRoom(room)
	}
	var role *string
	err := db.read.QueryRow(ctx, `
		SELECT a.role
		FROM rooms r
		LEFT JOIN room_access a ON a.room_id = r.id AND a.name_key = $2
		WHERE r.name = $1`, room, accessKey(name)).Scan(&role)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", errNoRoom(room)
	case err != nil:
		return "", fmt.Errorf("read role in %q: %w", room, err)
	case role == nil:
		return "", nil
	}
	return parley.Role(*role), nil
}

// accessKey returns the key under which room_access holds the person
// named name: its parley.NickKey, or "", which holds nobody, for a name
// that PostgreSQL cannot hold, and so nobody has.
func accessKey(name string) string {
	if !storable(name) {
		return ""
	}
	return parley.NickKey(name)
}

// SetRole makes the account named name a parley.RoleMember of the private
// room room, or, with role "", removes them. It returns NotFound for no
// room or no active account (when adding), and Invalid for a room that is
// not private, another role, or the owner.
func (db *DB) SetRole(ctx context.Context, room, name string, role parley.Role) error {
	if role != "" && role != parley.RoleMember {
		return parley.Errorf(parley.Invalid, "Members of a private room are added as %q.", parley.RoleMember)
	}
	if !storable(room) {
		if db.isClosed() {
			return ErrClosed
		}
		return errNoRoom(room)
	}
	key := accessKey(name)
	return db.submit(ctx, room, &op{kind: opExec, room: room, exec: func(ctx context.Context, tx pgx.Tx) error {
		var (
			id      int64
			kind    string
			current *string
			found   bool
		)
		account := ""
		q := &pgx.Batch{}
		q.Queue(selectAccess, room, key).QueryRow(func(row pgx.Row) error {
			err := row.Scan(&id, &kind, &current)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			found = err == nil
			return err
		})
		if role != "" {
			q.Queue(shareAccounts, []string{key}).Query(func(rows pgx.Rows) error {
				var k string
				_, err := pgx.ForEachRow(rows, []any{&k, &account}, func() error { return nil })
				return err
			})
		}
		if err := tx.SendBatch(ctx, q).Close(); err != nil {
			return fmt.Errorf("read room %q: %w", room, err)
		}
		switch {
		case !found:
			return errNoRoom(room)
		case kind != string(parley.RoomPrivate):
			return parley.Errorf(parley.Invalid, "Only a private room's members change.")
		case current != nil && *current == string(parley.RoleOwner):
			return parley.Errorf(parley.Invalid, "The owner of a room stays in it.")
		case role == "":
			if current == nil {
				return nil
			}
			if _, err := tx.Exec(ctx, removeMember, id, key); err != nil {
				return fmt.Errorf("remove %q from %q: %w", name, room, err)
			}
			return nil
		case account == "":
			return parley.ErrNoAccount(name)
		case current != nil:
			return nil // a member already
		}
		if _, err := tx.Exec(ctx, addMember, id, key, account); err != nil {
			return fmt.Errorf("add %q to %q: %w", name, room, err)
		}
		return nil
	}})
}

// RoomMembers returns who may see the private or direct room room,
// ordered by parley.NickKey; none for a public room. It returns NotFound
// for no room.
func (db *DB) RoomMembers(ctx context.Context, room string) ([]parley.RoomMember, error) {
	if db.isClosed() {
		return nil, ErrClosed
	}
	if !storable(room) {
		return nil, errNoRoom(room)
	}
	// One row for a room that nobody has access to, with NULLs.
	rows, _ := db.read.Query(ctx, `
		SELECT a.name, a.role
		FROM rooms r
		LEFT JOIN room_access a ON a.room_id = r.id
		WHERE r.name = $1
		ORDER BY a.name_key`, room)
	found := false
	members := []parley.RoomMember{}
	var name, role *string
	_, err := pgx.ForEachRow(rows, []any{&name, &role}, func() error {
		found = true
		if name != nil {
			members = append(members, parley.RoomMember{Room: room, Name: *name, Role: parley.Role(*role)})
		}
		return nil
	})
	switch {
	case err != nil:
		return nil, fmt.Errorf("list members of %q: %w", room, err)
	case !found:
		return nil, errNoRoom(room)
	}
	return members, nil
}

// VisibleRooms returns a page of the rooms that the person named viewer
// may see, ordered by name as Rooms orders them: the public rooms, and the
// private and direct rooms viewer is a member of.
func (db *DB) VisibleRooms(ctx context.Context, viewer, after string, limit int) ([]*parley.Room, error) {
	if err := parley.ValidateRoomPage(limit); err != nil {
		return nil, err
	}
	if db.isClosed() {
		return nil, ErrClosed
	}
	rows, _ := db.read.Query(ctx, `
		SELECT name, created_at, last_seq, kind, title, topic, owner, archived_at, description
		FROM rooms
		WHERE name > $1 AND (kind = 'public' OR id IN (
			SELECT room_id FROM room_access WHERE name_key = $2))
		ORDER BY name
		LIMIT $3`, after, accessKey(viewer), limit)
	return collectRooms(rows)
}

// UpdateRoom changes the title or topic of room, or archives it or brings
// it back, as u says. It returns NotFound for no room, Invalid for a bad
// update, and Forbidden (default_room) for archiving parley.DefaultRoom.
func (db *DB) UpdateRoom(ctx context.Context, room string, u parley.RoomUpdate) error {
	if err := u.Validate(); err != nil {
		return err
	}
	if !storable(room) {
		if db.isClosed() {
			return ErrClosed
		}
		return errNoRoom(room)
	}
	if u.Archived != nil && *u.Archived && room == parley.DefaultRoom {
		return parley.ErrDefaultRoom()
	}
	o := &op{kind: opExec, room: room}
	o.exec = func(ctx context.Context, tx pgx.Tx) error {
		var found bool
		err := tx.QueryRow(ctx, updateRoom, room, u.Title, u.Topic, u.Archived, o.at, u.Description).Scan(&found)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return errNoRoom(room)
		case err != nil:
			return fmt.Errorf("update room %q: %w", room, err)
		}
		return nil
	}
	return db.submit(ctx, room, o)
}

// DeleteRoom removes room, its log, its members, who may see it and the
// read markers of it, in one transaction. It returns NotFound for no room
// and Forbidden (default_room) for parley.DefaultRoom.
func (db *DB) DeleteRoom(ctx context.Context, room string) error {
	if !storable(room) {
		if db.isClosed() {
			return ErrClosed
		}
		return errNoRoom(room)
	}
	return db.submit(ctx, room, &op{kind: opExec, room: room, exec: func(ctx context.Context, tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, selectRoomID, room).Scan(&id)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return errNoRoom(room)
		case err != nil:
			return fmt.Errorf("delete room %q: %w", room, err)
		case room == parley.DefaultRoom:
			return parley.ErrDefaultRoom()
		}
		q := &pgx.Batch{}
		for _, table := range []string{"read_markers", "members", "room_access", "entries"} {
			q.Queue(`DELETE FROM `+table+` WHERE room_id = $1`, id)
		}
		q.Queue(`DELETE FROM rooms WHERE id = $1`, id)
		if err := tx.SendBatch(ctx, q).Close(); err != nil {
			return fmt.Errorf("delete room %q: %w", room, err)
		}
		return nil
	}})
}
