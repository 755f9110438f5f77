package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/parley-chat/parley"
)

// Private and direct rooms, and who may see them (room_access). Written
// through the writer goroutine, read on the read pool.

// CreateRoom stores the new private or direct room r with the accounts
// that may see it.
func (db *DB) CreateRoom(ctx context.Context, r *parley.Room, members []string) error {
	if err := r.ValidateNew(); err != nil {
		return err
	}
	made := *r
	names := make([]string, len(members))
	err := db.submit(ctx, func(ctx context.Context, b *batch) error {
		if found, err := b.exists(ctx, `SELECT 1 FROM rooms WHERE name = ?`, made.Name); err != nil || found {
			if err == nil {
				err = parley.ErrRoomExists(made.Name)
			}
			return err
		}
		// Every account first, so that a refusal has stored nothing.
		type grant struct {
			key, name string
			role      parley.Role
		}
		var grants []grant
		seen := map[string]bool{}
		add := func(name string, role parley.Role) (string, error) {
			key := parley.NickKey(name)
			real, err := b.activeAccount(ctx, name, key)
			if err != nil || seen[key] {
				return real, err
			}
			seen[key] = true
			grants = append(grants, grant{key, real, role})
			return real, nil
		}
		owner := ""
		if made.Owner != "" {
			var err error
			if owner, err = add(made.Owner, parley.RoleOwner); err != nil {
				return err
			}
		}
		for i, m := range members {
			var err error
			if names[i], err = add(m, parley.RoleMember); err != nil {
				return err
			}
		}
		res, err := b.exec(ctx, `
			INSERT INTO rooms (name, created_at, kind, title, topic, owner, description)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, made.Name, b.at.UnixMilli(), string(made.Kind), made.Title, made.Topic, owner, made.Description)
		if err != nil {
			return fmt.Errorf("create room %q: %w", made.Name, err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return fmt.Errorf("create room %q: %w", made.Name, err)
		}
		for _, g := range grants {
			if _, err := b.exec(ctx, `
				INSERT INTO room_access (room_id, name_key, name, role)
				VALUES (?, ?, ?, ?)`, id, g.key, g.name, string(g.role)); err != nil {
				return fmt.Errorf("create room %q: %w", made.Name, err)
			}
		}
		made.Owner, made.CreatedAt = owner, b.at
		return nil
	})
	if err != nil {
		return err
	}
	*r = made
	copy(members, names)
	return nil
}

// activeAccount returns the name of the active account whose key is key,
// or NotFound.
func (b *batch) activeAccount(ctx context.Context, name, key string) (string, error) {
	var real string
	err := b.queryRow(ctx, []any{&real}, `
		SELECT name
		FROM accounts
		WHERE name_key = ? AND deactivated_at IS NULL`, key)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", parley.ErrNoAccount(name)
	case err != nil:
		return "", fmt.Errorf("read account: %w", err)
	}
	return real, nil
}

// Role returns what the person named name is in room.
func (db *DB) Role(ctx context.Context, room, name string) (parley.Role, error) {
	if db.isClosed() {
		return "", ErrClosed
	}
	var role sql.NullString
	err := db.read.QueryRowContext(ctx, `
		SELECT a.role
		FROM rooms r
		LEFT JOIN room_access a ON a.room_id = r.id AND a.name_key = ?
		WHERE r.name = ?`, parley.NickKey(name), room).Scan(&role)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", errNoRoom(room)
	case err != nil:
		return "", fmt.Errorf("read role: %w", err)
	}
	return parley.Role(role.String), nil
}

// SetRole adds the account named name to the private room room as a
// member, or removes them with role "".
func (db *DB) SetRole(ctx context.Context, room, name string, role parley.Role) error {
	if role != "" && role != parley.RoleMember {
		return parley.Errorf(parley.Invalid, "Members of a private room are added as %q.", parley.RoleMember)
	}
	return db.submit(ctx, func(ctx context.Context, b *batch) error {
		var id int64
		var kind string
		err := b.queryRow(ctx, []any{&id, &kind}, `SELECT id, kind FROM rooms WHERE name = ?`, room)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return errNoRoom(room)
		case err != nil:
			return fmt.Errorf("read room %q: %w", room, err)
		case kind != string(parley.RoomPrivate):
			return parley.Errorf(parley.Invalid, "Only a private room's members change.")
		}
		key := parley.NickKey(name)
		if owner, err := b.exists(ctx, `
			SELECT 1 FROM room_access WHERE room_id = ? AND name_key = ? AND role = 'owner'`, id, key); err != nil || owner {
			if err == nil {
				err = parley.Errorf(parley.Invalid, "The owner of a room stays in it.")
			}
			return err
		}
		if role == "" {
			if _, err := b.exec(ctx, `DELETE FROM room_access WHERE room_id = ? AND name_key = ?`, id, key); err != nil {
				return fmt.Errorf("remove %q from %q: %w", name, room, err)
			}
			return nil
		}
		real, err := b.activeAccount(ctx, name, key)
		if err != nil {
			return err
		}
		if _, err := b.exec(ctx, `
			INSERT INTO room_access (room_id, name_key, name, role)
			VALUES (?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, id, key, real, string(role)); err != nil {
			return fmt.Errorf("add %q to %q: %w", name, room, err)
		}
		return nil
	})
}

// RoomMembers returns who may see the room room.
func (db *DB) RoomMembers(ctx context.Context, room string) ([]parley.RoomMember, error) {
	if db.isClosed() {
		return nil, ErrClosed
	}
	var id int64
	err := db.read.QueryRowContext(ctx, `SELECT id FROM rooms WHERE name = ?`, room).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, errNoRoom(room)
	case err != nil:
		return nil, fmt.Errorf("read room %q: %w", room, err)
	}
	rows, err := db.read.QueryContext(ctx, `
		SELECT name, role
		FROM room_access
		WHERE room_id = ?
		ORDER BY name_key`, id)
	if err != nil {
		return nil, fmt.Errorf("list members of %q: %w", room, err)
	}
	defer rows.Close()
	members := []parley.RoomMember{}
	for rows.Next() {
		m := parley.RoomMember{Room: room}
		if err := rows.Scan(&m.Name, &m.Role); err != nil {
			return nil, fmt.Errorf("list members of %q: %w", room, err)
		}
		members = append(members, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list members of %q: %w", room, err)
	}
	return members, nil
}

// VisibleRooms returns a page of the rooms that viewer may see.
func (db *DB) VisibleRooms(ctx context.Context, viewer, after string, limit int) ([]*parley.Room, error) {
	if err := parley.ValidateRoomPage(limit); err != nil {
		return nil, err
	}
	if db.isClosed() {
		return nil, ErrClosed
	}
	key := ""
	if viewer != "" {
		key = parley.NickKey(viewer)
	}
	rows, err := db.read.QueryContext(ctx, `
		SELECT name, created_at, last_seq, kind, title, topic, owner, archived_at, description
		FROM rooms
		WHERE name > ? AND (kind = 'public' OR id IN (
			SELECT room_id FROM room_access WHERE name_key = ?))
		ORDER BY name
		LIMIT ?`, after, key, limit)
	return scanRooms(rows, err)
}

// UpdateRoom changes the title or topic of room, or archives it or
// brings it back.
func (db *DB) UpdateRoom(ctx context.Context, room string, u parley.RoomUpdate) error {
	if err := u.Validate(); err != nil {
		return err
	}
	return db.submit(ctx, func(ctx context.Context, b *batch) error {
		r, err := b.room(ctx, room)
		switch {
		case err != nil:
			return err
		case u.Archived != nil && *u.Archived && room == parley.DefaultRoom:
			return parley.ErrDefaultRoom()
		}
		if u.Archived != nil {
			// Archiving an archived room keeps the time it was first archived.
			query, args := `UPDATE rooms SET archived_at = NULL WHERE id = ?`, []any{r.id}
			if *u.Archived {
				query, args = `UPDATE rooms SET archived_at = coalesce(archived_at, ?) WHERE id = ?`, []any{b.at.UnixMilli(), r.id}
			}
			if _, err := b.exec(ctx, query, args...); err != nil {
				return fmt.Errorf("archive room %q: %w", room, err)
			}
			r.archived = *u.Archived
		}
		for column, value := range map[string]*string{"title": u.Title, "topic": u.Topic, "description": u.Description} {
			if value == nil {
				continue
			}
			if _, err := b.exec(ctx, `UPDATE rooms SET `+column+` = ? WHERE name = ?`, *value, room); err != nil {
				return fmt.Errorf("update room %q: %w", room, err)
			}
		}
		return nil
	})
}

// DeleteRoom removes room with its log, members, access list and read
// markers, in one transaction.
func (db *DB) DeleteRoom(ctx context.Context, room string) error {
	return db.submit(ctx, func(ctx context.Context, b *batch) error {
		r, err := b.room(ctx, room)
		switch {
		case err != nil:
			return err
		case room == parley.DefaultRoom:
			return parley.ErrDefaultRoom()
		}
		for _, table := range []string{"read_markers", "members", "room_access", "entries"} {
			if _, err := b.exec(ctx, `DELETE FROM `+table+` WHERE room_id = ?`, r.id); err != nil {
				return fmt.Errorf("delete room %q: %w", room, err)
			}
		}
		if _, err := b.exec(ctx, `DELETE FROM rooms WHERE id = ?`, r.id); err != nil {
			return fmt.Errorf("delete room %q: %w", room, err)
		}
		delete(b.rooms, room)
		b.deleted = append(b.deleted, room)
		return nil
	})
}
