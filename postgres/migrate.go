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

// goSteps are the parts of migrations that SQL cannot do, by the name of
// the migration file they follow: each runs in the migrations'
// transaction, right after its file's statements.
var goSteps = map[string]func(ctx context.Context, tx pgx.Tx, now time.Time) error{
	"0003_accounts.sql": rekeySessions,
}

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
		if step := goSteps[name]; step != nil {
			if err := step(ctx, tx, now); err != nil {
				return fmt.Errorf("migrate: apply %s: %w", name, err)
			}
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

// rekeySessions recomputes the nick_key of every session with
// parley.NickKey, which became the confusable skeleton of a name where it
// had been its lower case, and then makes nick_key unique among guests'
// sessions. Names that were two are now one ("alice" and "аlice", with a
// Cyrillic а): of the guests' sessions that share a key, the oldest one that
// has not expired keeps the name (the oldest of all when every one has
// expired), and the others end, as if their holders had signed out.
func rekeySessions(ctx context.Context, tx pgx.Tx, now time.Time) error {
	type session struct {
		hash, nick, key, kind string
		created, expires      time.Time
	}
	rows, _ := tx.Query(ctx, `
		SELECT token_hash, nick, nick_key, kind, created_at, expires_at
		FROM sessions
		ORDER BY created_at, token_hash`)
	var s session
	var sessions []session
	_, err := pgx.ForEachRow(rows, []any{&s.hash, &s.nick, &s.key, &s.kind, &s.created, &s.expires}, func() error {
		sessions = append(sessions, s)
		return nil
	})
	if err != nil {
		return fmt.Errorf("rekey sessions: read: %w", err)
	}
	var hashes, keys, ended []string
	holder := map[string]session{} // the guest's session that keeps each key
	for _, s := range sessions {
		key := parley.NickKey(s.nick)
		if key != s.key {
			hashes, keys = append(hashes, s.hash), append(keys, key)
		}
		if s.kind != string(parley.SessionGuest) {
			continue
		}
		h, taken := holder[key]
		switch {
		case !taken:
			holder[key] = s
		case !h.expires.After(now) && s.expires.After(now):
			// A live session takes the name from an expired one.
			ended = append(ended, h.hash)
			holder[key] = s
		default:
			ended = append(ended, s.hash) // newer than the holder
		}
	}
	q := &pgx.Batch{}
	q.Queue(`
		UPDATE sessions
		SET nick_key = k.key
		FROM unnest($1::text[], $2::text[]) AS k (token_hash, key)
		WHERE sessions.token_hash = k.token_hash`, hashes, keys)
	q.Queue(`DELETE FROM sessions WHERE token_hash = ANY ($1::text[])`, ended)
	q.Queue(`CREATE UNIQUE INDEX sessions_guest_nick_key ON sessions (nick_key) WHERE kind = 'guest'`)
	if err := tx.SendBatch(ctx, q).Close(); err != nil {
		return fmt.Errorf("rekey sessions: %w", err)
	}
	return nil
}
