package sqlite

import (
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/copytest"
)

// TestCopy runs the checks of what parley migrate copy needs of a store.
func TestCopy(t *testing.T) {
	copytest.Run(t, func(t *testing.T, now func() time.Time) copytest.Store {
		return mustOpen(t, tempPath(t), WithNow(now))
	})
}

// TestImportDatabaseFailures breaks the schema under a DB and checks that
// the methods of a copy report Internal errors, storing nothing.
func TestImportDatabaseFailures(t *testing.T) {
	path := tempPath(t)
	db := mustOpen(t, path)
	ctx := t.Context()
	other, err := openPool(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	exec := func(query string) {
		t.Helper()
		if _, err := other.ExecContext(ctx, query); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	rooms := func() error { return db.ImportRooms(ctx, []*parley.Room{{Name: "new", CreatedAt: at}}) }
	entries := func() error {
		return db.ImportEntries(ctx, []*parley.Entry{{Room: parley.DefaultRoom, Seq: 1, Kind: parley.KindJoin, From: "ana", At: at}})
	}
	members := func() error { return db.ImportMembers(ctx, []parley.Member{{Room: parley.DefaultRoom, Nick: "ana"}}) }
	sessions := func() error {
		return db.ImportSessions(ctx, []parley.StoredSession{{TokenHash: "h", Session: parley.Session{Nick: "ana", CreatedAt: at, ExpiresAt: at}}})
	}
	refuse := func(table string) string {
		return `CREATE TRIGGER refuse BEFORE INSERT ON ` + table + ` BEGIN SELECT RAISE(ABORT, 'no'); END`
	}
	calls := []struct {
		name   string
		damage string
		call   func() error
		fix    string
	}{
		{"Sessions", `ALTER TABLE sessions RENAME TO broken`, func() error { _, err := db.Sessions(ctx, "", 1); return err }, `ALTER TABLE broken RENAME TO sessions`},
		{"ImportRooms", `ALTER TABLE rooms RENAME TO broken`, rooms, `ALTER TABLE broken RENAME TO rooms`},
		{"ImportRooms", refuse("rooms"), rooms, `DROP TRIGGER refuse`},
		{"ImportEntries", `ALTER TABLE rooms RENAME TO broken`, entries, `ALTER TABLE broken RENAME TO rooms`},
		{"ImportEntries", `ALTER TABLE entries RENAME TO broken`, entries, `ALTER TABLE broken RENAME TO entries`},
		{"ImportEntries", refuse("entries"), entries, `DROP TRIGGER refuse`},
		{"ImportMembers", `ALTER TABLE members RENAME TO broken`, members, `ALTER TABLE broken RENAME TO members`},
		{"ImportMembers", refuse("members"), members, `DROP TRIGGER refuse`},
		{"ImportSessions", `ALTER TABLE sessions RENAME TO broken`, sessions, `ALTER TABLE broken RENAME TO sessions`},
		{"ImportSessions", refuse("sessions"), sessions, `DROP TRIGGER refuse`},
	}
	for _, c := range calls {
		exec(c.damage)
		err := c.call()
		exec(c.fix)
		if err == nil || parley.KindOf(err) != parley.Internal {
			t.Errorf("%s() after %s = %v, want an Internal error", c.name, c.damage, err)
		}
	}
	// Nothing was stored, and the imports work once the database is whole.
	for _, call := range []func() error{rooms, entries, members, sessions} {
		if err := call(); err != nil {
			t.Errorf("import after the failures = %v", err)
		}
	}
	wantSeqs(t, db, parley.DefaultRoom, 1)
}
