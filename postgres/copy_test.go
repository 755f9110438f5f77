package postgres

import (
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/copytest"
)

// TestCopy runs the checks of what parley migrate copy needs of a store.
func TestCopy(t *testing.T) {
	copytest.Run(t, func(t *testing.T, now func() time.Time) copytest.Store {
		return mustOpen(t, newDatabase(t), WithNow(now))
	})
}

// TestImportDatabaseFailures breaks the schema under a DB and checks that
// the methods of a copy report Internal errors, storing nothing.
func TestImportDatabaseFailures(t *testing.T) {
	url := newDatabase(t)
	db := mustOpen(t, url)
	ctx := t.Context()
	other := admin(t, url)
	exec := func(query string) {
		t.Helper()
		if _, err := other.Exec(ctx, query); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	exec(`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no'; END $$`)
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
		return `CREATE TRIGGER refuse BEFORE INSERT ON ` + table + ` FOR EACH ROW EXECUTE FUNCTION refuse()`
	}
	calls := []struct {
		name   string
		damage string
		call   func() error
		fix    string
	}{
		{"Sessions", `ALTER TABLE sessions RENAME TO broken`, func() error { _, err := db.Sessions(ctx, "", 1); return err }, `ALTER TABLE broken RENAME TO sessions`},
		{"ImportRooms", refuse("rooms"), rooms, `DROP TRIGGER refuse ON rooms`},
		{"ImportEntries", `ALTER TABLE rooms RENAME TO broken`, entries, `ALTER TABLE broken RENAME TO rooms`},
		{"ImportEntries", refuse("entries"), entries, `DROP TRIGGER refuse ON entries`},
		{"ImportMembers", `ALTER TABLE rooms RENAME TO broken`, members, `ALTER TABLE broken RENAME TO rooms`},
		{"ImportMembers", refuse("members"), members, `DROP TRIGGER refuse ON members`},
		{"ImportSessions", refuse("sessions"), sessions, `DROP TRIGGER refuse ON sessions`},
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

// TestImportUnstorable: names that PostgreSQL cannot hold are refused
// before anything is queued.
func TestImportUnstorable(t *testing.T) {
	db := mustOpen(t, newDatabase(t))
	ctx := t.Context()
	bad := "bad\x00room"
	if err := db.ImportRooms(ctx, []*parley.Room{{Name: bad}}); parley.KindOf(err) != parley.Invalid {
		t.Errorf("ImportRooms(%q) = %v, want Invalid", bad, err)
	}
	if err := db.ImportEntries(ctx, []*parley.Entry{{Room: bad, Seq: 1}}); parley.KindOf(err) != parley.NotFound {
		t.Errorf("ImportEntries(room %q) = %v, want NotFound", bad, err)
	}
	if err := db.ImportMembers(ctx, []parley.Member{{Room: bad, Nick: "ana"}}); parley.KindOf(err) != parley.NotFound {
		t.Errorf("ImportMembers(room %q) = %v, want NotFound", bad, err)
	}
	for _, empty := range []func() error{
		func() error { return db.ImportRooms(ctx, nil) },
		func() error { return db.ImportEntries(ctx, nil) },
		func() error { return db.ImportMembers(ctx, nil) },
		func() error { return db.ImportSessions(ctx, nil) },
	} {
		if err := empty(); err != nil {
			t.Errorf("import of nothing = %v, want nil", err)
		}
	}
}
