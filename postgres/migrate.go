package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parley-chat/parley"
)

// migrations holds the schema changes, applied in the order of their names.
// A migration, once released, never changes: add a new file instead.
//
//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the key of the advisory lock that keeps two replicas
// starting at once from applying the same migrations: the first takes it,
// the others wait, then find nothing left to do. ("parley" in ASCII.)
const migrationLock int64 = 0x7061726c6579

// migrate applies, in one transaction, every migration the database has not
// recorded in its migrations table, then makes sure that the room
// parley.DefaultRoom exists. It refuses a database that has migrations this
// program does not know, which a newer version of Parley wrote.
func migrate(ctx context.Context, pool *pgxpool.Pool, now time.Time) error {
	return migrateFS(ctx, pool, migrations, now)
}

func migrateFS(ctx context.Context, pool *pgxpool.Pool, fsys fs.FS, now time.Time) error {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	slices.Sort(names)

	// Read committed, whatever the database's default, so that the
	// statements after the lock see what the replica that held it before
	// committed: under repeatable read the snapshot would date from the
	// lock's own statement, before the wait.
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback(context.Background())

	// The lock is the transaction's: it is released at commit or rollback.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `
		CREATE TABLE IF NOT EXISTS migrations (
			name       text        PRIMARY KEY,
			applied_at timestamptz NOT NULL
		)`); err != nil {
		return fmt.Errorf("migrate: create migrations table: %w", err)
	}
	rows, _ := tx.Query(ctx, `SELECT name FROM migrations`)
	applied, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("migrate: read migrations: %w", err)
	}
	for _, name := range applied {
		if !slices.Contains(names, "migrations/"+name) {
			return fmt.Errorf("migrate: the database has migration %s, which this version of parley does not know: it was written by a newer version", name)
		}
	}
	for _, file := range names {
		name := path.Base(file)
		if slices.Contains(applied, name) {
			continue
		}
		schema, err := fs.ReadFile(fsys, file)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		// Exec without arguments uses the simple protocol, which runs
		// several statements.
		if _, err := tx.Exec(ctx, string(schema)); err != nil {
			return fmt.Errorf("migrate: apply %s: %w", name, err)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO migrations (name, applied_at)
			VALUES ($1, $2)`, name, now); err != nil {
			return fmt.Errorf("migrate: record %s: %w", name, err)
		}
	}

	if _, err := tx.Exec(ctx, `
		INSERT INTO rooms (name, created_at)
		VALUES ($1, $2)
		ON CONFLICT (name) DO NOTHING`, parley.DefaultRoom, now); err != nil {
		return fmt.Errorf("migrate: create room %q: %w", parley.DefaultRoom, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
