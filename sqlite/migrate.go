package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"time"

	"github.com/parley-chat/parley"
)

// migrations holds the schema changes, applied in the order of their names.
// A migration, once released, never changes: add a new file instead.
//
//go:embed migrations/*.sql
var migrations embed.FS

// migrate applies, in one transaction, every migration the database has not
// recorded in its migrations table, then makes sure that the room
// parley.DefaultRoom exists. It refuses a database that has migrations this
// program does not know, which a newer version of Parley wrote.
func migrate(ctx context.Context, db *sql.DB, now time.Time) error {
	return migrateFS(ctx, db, migrations, now)
}

func migrateFS(ctx context.Context, db *sql.DB, fsys fs.FS, now time.Time) error {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	slices.Sort(names)

	// The write lock taken at BEGIN (the pool uses _txlock=immediate) keeps
	// two processes from applying the same migration.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()

	if _, err := tx.ExecContext(ctx, `
		CREATE TABLE IF NOT EXISTS migrations (
			name       TEXT    PRIMARY KEY,
			applied_at INTEGER NOT NULL
		) STRICT`); err != nil {
		return fmt.Errorf("migrate: create migrations table: %w", err)
	}
	applied, err := appliedMigrations(ctx, tx)
	if err != nil {
		return err
	}
	for name := range applied {
		if !slices.Contains(names, "migrations/"+name) {
			return fmt.Errorf("migrate: the database has migration %s, which this version of parley does not know: it was written by a newer version", name)
		}
	}
	for _, file := range names {
		name := path.Base(file)
		if applied[name] {
			continue
		}
		schema, err := fs.ReadFile(fsys, file)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if _, err := tx.ExecContext(ctx, string(schema)); err != nil {
			return fmt.Errorf("migrate: apply %s: %w", name, err)
		}
		if step := migrationSteps[name]; step != nil {
			if err := step(ctx, tx); err != nil {
				return fmt.Errorf("migrate: apply %s: %w", name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO migrations (name, applied_at)
			VALUES (?, ?)`, name, now.UnixMilli()); err != nil {
			return fmt.Errorf("migrate: record %s: %w", name, err)
		}
	}

	if _, err := tx.ExecContext(ctx, `
		INSERT INTO rooms (name, created_at)
		VALUES (?, ?)
		ON CONFLICT (name) DO NOTHING`, parley.DefaultRoom, now.UnixMilli()); err != nil {
		return fmt.Errorf("migrate: create room %q: %w", parley.DefaultRoom, err)
	}
	return tx.Commit()
}

// migrationSteps are the parts of migrations that SQL cannot do, by the
// name of the migration after whose SQL they run, in its transaction.
var migrationSteps = map[string]func(context.Context, *sql.Tx) error{
	"0003_accounts.sql": rekeySessions,
}

// rekeySessions sets the nick_key of every session to parley.NickKey of its
// nickname. Two guests' sessions whose nicknames now share a key (alice
// and аlice, once two names) cannot both keep it: the older keeps it, the
// newer ends.
func rekeySessions(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `
		SELECT token_hash, nick
		FROM sessions
		ORDER BY created_at, token_hash`)
	if err != nil {
		return fmt.Errorf("read sessions: %w", err)
	}
	type session struct{ hash, nick string }
	var sessions []session
	for rows.Next() {
		var s session
		if err := rows.Scan(&s.hash, &s.nick); err != nil {
			rows.Close()
			return fmt.Errorf("read sessions: %w", err)
		}
		sessions = append(sessions, s)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("read sessions: %w", err)
	}
	seen := map[string]bool{}
	for _, s := range sessions {
		key := parley.NickKey(s.nick)
		query, args := `UPDATE sessions SET nick_key = ? WHERE token_hash = ?`, []any{key, s.hash}
		if seen[key] {
			query, args = `DELETE FROM sessions WHERE token_hash = ?`, []any{s.hash}
		}
		seen[key] = true
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return fmt.Errorf("rekey session of %q: %w", s.nick, err)
		}
	}
	return nil
}

func appliedMigrations(ctx context.Context, tx *sql.Tx) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name FROM migrations`)
	if err != nil {
		return nil, fmt.Errorf("migrate: read migrations: %w", err)
	}
	defer rows.Close()
	applied := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("migrate: read migrations: %w", err)
		}
		applied[name] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("migrate: read migrations: %w", err)
	}
	return applied, nil
}
