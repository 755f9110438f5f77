package sqlite

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/parley-chat/parley"
)

func TestOpenMigratesOnce(t *testing.T) {
	path := tempPath(t)
	db := mustOpen(t, path)
	mustAppend(t, db, message("ana", "c-1", "hello"))
	if err := db.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	// Opening again applies nothing twice: the tables it would create
	// exist, and the data stays.
	db = mustOpen(t, path)
	wantSeqs(t, db, parley.DefaultRoom, 1)

	names, err := migrationNames()
	if err != nil {
		t.Fatal(err)
	}
	var recorded []string
	rows, err := db.read.QueryContext(t.Context(), `SELECT name FROM migrations ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		recorded = append(recorded, name)
	}
	if strings.Join(recorded, " ") != strings.Join(names, " ") {
		t.Errorf("migrations table = %q, want %q", recorded, names)
	}
}

func migrationNames() ([]string, error) {
	entries, err := migrations.ReadDir("migrations")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names, nil
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := tempPath(t)
	db := mustOpen(t, path)
	if _, err := db.write.ExecContext(t.Context(), `INSERT INTO migrations (name, applied_at) VALUES ('9999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err := Open(t.Context(), path); err == nil || !strings.Contains(err.Error(), "9999_future.sql") {
		t.Errorf("Open(database with an unknown migration) = %v, %v; want an error naming it", db, err)
		if db != nil {
			db.Close()
		}
	}
}

func TestMigrateInOrderOrNotAtAll(t *testing.T) {
	write, err := openPool(t.Context(), tempPath(t), "_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer write.Close()
	now := time.Now()

	// 0002 needs 0001, and its second statement fails: nothing is applied.
	fsys := fstest.MapFS{
		"migrations/0002_b.sql": {Data: []byte(`ALTER TABLE rooms ADD COLUMN topic TEXT; SELECT nonsense FROM nowhere;`)},
		"migrations/0001_a.sql": {Data: []byte(`CREATE TABLE rooms (id INTEGER PRIMARY KEY, name TEXT UNIQUE, created_at INTEGER);`)},
		"migrations/notes.txt":  {Data: []byte(`not a migration`)},
	}
	if err := migrateFS(t.Context(), write, fsys, now); err == nil || !strings.Contains(err.Error(), "0002_b.sql") {
		t.Fatalf("migrateFS(failing 0002) = %v, want an error naming 0002_b.sql", err)
	}
	if tables := tableNames(t, write); len(tables) != 0 {
		t.Errorf("tables after a failed migration = %q, want none", tables)
	}

	fsys["migrations/0002_b.sql"] = &fstest.MapFile{Data: []byte(`ALTER TABLE rooms ADD COLUMN topic TEXT;`)}
	if err := migrateFS(t.Context(), write, fsys, now); err != nil {
		t.Fatalf("migrateFS() = %v", err)
	}
	var name string
	if err := write.QueryRowContext(t.Context(), `SELECT name FROM rooms WHERE topic IS NULL`).Scan(&name); err != nil || name != parley.DefaultRoom {
		t.Errorf("rooms after migrating = %q, %v; want %q", name, err, parley.DefaultRoom)
	}
	if got, want := tableNames(t, write), []string{"migrations", "rooms"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("tables = %q, want %q", got, want)
	}
}

func tableNames(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	return names
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database ", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		"",
		":memory:",
		"file:parley.db",
		filepath.Join(dir, "what?.db"),
		filepath.Join(dir, "missing", "parley.db"),
		dir,
		garbage,
	} {
		if db, err := Open(t.Context(), path); err == nil {
			db.Close()
			t.Errorf("Open(%q) = nil error, want an error", path)
		}
	}
}

func TestWithNow(t *testing.T) {
	clock := time.Date(2026, 11, 22, 9, 30, 1, 512_999_999, time.FixedZone("CET", 3600))
	db := mustOpen(t, tempPath(t), WithNow(func() time.Time { return clock }))
	want := time.Date(2026, 11, 22, 8, 30, 1, 512_000_000, time.UTC)

	r, err := db.EnsureRoom(t.Context(), "new")
	if err != nil {
		t.Fatal(err)
	}
	e := mustAppend(t, db, message("ana", "c-1", "hello"))
	j, err := db.Join(t.Context(), parley.DefaultRoom, "ana")
	if err != nil {
		t.Fatal(err)
	}
	stored, err := db.Entries(t.Context(), parley.DefaultRoom, parley.Page{Limit: 10})
	if err != nil || len(stored) != 2 {
		t.Fatalf("Entries() = %v, %v; want 2 entries", stored, err)
	}
	for what, got := range map[string]time.Time{
		"EnsureRoom().CreatedAt": r.CreatedAt,
		"Append().At":            e.At,
		"Join().At":              j.At,
		"Entries()[0].At":        stored[0].At,
		"Entries()[1].At":        stored[1].At,
	} {
		// Times are kept to the millisecond, in UTC, and read back as
		// they were returned.
		if got != want {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
}

// TestOpenRefusesDamagedSchema: a database whose migrations are recorded
// but whose tables are not what they say fails Open, not the first send.
func TestOpenRefusesDamagedSchema(t *testing.T) {
	path := tempPath(t)
	db := mustOpen(t, path)
	db.Close()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`ALTER TABLE entries RENAME TO old_entries`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if db, err := Open(t.Context(), path); err == nil {
		db.Close()
		t.Fatal("Open() of a database without its entries table = nil error, want an error")
	} else if !strings.Contains(err.Error(), "prepare") {
		t.Errorf("Open() = %v, want an error about preparing the queries", err)
	}
}

// TestMigrateRekeysSessions upgrades a database whose sessions were keyed
// by the lower case of their nicknames: each gets its key by
// parley.NickKey, and of two guests whose names are now one (alice and
// аlice, with a Cyrillic а) the one who came first keeps it.
func TestMigrateRekeysSessions(t *testing.T) {
	path := tempPath(t)
	write, err := openPool(t.Context(), path, "_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer write.Close()
	old := fstest.MapFS{}
	for _, name := range []string{"0001_init.sql", "0002_sessions.sql"} {
		data, err := migrations.ReadFile("migrations/" + name)
		if err != nil {
			t.Fatal(err)
		}
		old["migrations/"+name] = &fstest.MapFile{Data: data}
	}
	if err := migrateFS(t.Context(), write, old, time.Now()); err != nil {
		t.Fatal(err)
	}
	for i, nick := range []string{"alice", "\u0430lice", "Bob", "RN"} {
		if _, err := write.ExecContext(t.Context(), `
			INSERT INTO sessions (token_hash, nick, nick_key, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?)`, "h-"+nick, nick, strings.ToLower(nick), i, time.Now().Add(time.Hour).UnixMilli()); err != nil {
			t.Fatal(err)
		}
	}
	if err := migrate(t.Context(), write, time.Now()); err != nil {
		t.Fatalf("migrate() = %v", err)
	}
	rows, err := write.QueryContext(t.Context(), `SELECT nick, nick_key, kind FROM sessions ORDER BY created_at`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var nick, key, kind string
		if err := rows.Scan(&nick, &key, &kind); err != nil {
			t.Fatal(err)
		}
		got = append(got, nick+"="+key+"/"+kind)
	}
	want := []string{"alice=" + parley.NickKey("alice") + "/guest", "Bob=bob/guest", "RN=" + parley.NickKey("m") + "/guest"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("sessions after migrating = %q, want %q", got, want)
	}
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.CreateSession(t.Context(), "m", time.Hour); parley.CodeOf(err) != parley.CodeNicknameTaken {
		t.Errorf("CreateSession(m) beside RN = %v, want nickname_taken", err)
	}
}
