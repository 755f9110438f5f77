package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parley-chat/parley"
)

func TestOpenMigratesOnce(t *testing.T) {
	url := newDatabase(t)
	db := mustOpen(t, url)
	mustAppend(t, db, message("ana", "c-1", "hello"))
	if err := db.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	// Opening again applies nothing twice: the tables it would create
	// exist, and the data stays.
	db = mustOpen(t, url)
	wantSeqs(t, db, parley.DefaultRoom, 1)

	names := mustReadDir(t)
	rows, _ := db.read.Query(t.Context(), `SELECT name FROM migrations ORDER BY name`)
	recorded, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recorded, " ") != strings.Join(names, " ") {
		t.Errorf("migrations table = %q, want %q", recorded, names)
	}
}

// TestOpenConcurrent opens one new database from several stores at once, as
// replicas starting together do: the advisory lock lets one migrate, and
// the others find the work done.
func TestOpenConcurrent(t *testing.T) {
	url := newDatabase(t)
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			db, err := Open(t.Context(), url)
			if err == nil {
				err = db.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open() %d of %d at once = %v", i+1, n, err)
		}
	}
	db := mustOpen(t, url)
	var count int
	if err := db.read.QueryRow(t.Context(), `SELECT count(*) FROM migrations`).Scan(&count); err != nil {
		t.Fatal(err)
	}
	if want := len(mustReadDir(t)); count != want {
		t.Errorf("migrations recorded = %d, want %d", count, want)
	}
}

func mustReadDir(t *testing.T) []string {
	t.Helper()
	entries, err := migrations.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	url := newDatabase(t)
	db := mustOpen(t, url)
	if _, err := db.read.Exec(t.Context(), `INSERT INTO migrations (name, applied_at) VALUES ('9999_future.sql', now())`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err := Open(t.Context(), url); err == nil || !strings.Contains(err.Error(), "9999_future.sql") {
		t.Errorf("Open(database with an unknown migration) = %v, %v; want an error naming it", db, err)
		if db != nil {
			db.Close()
		}
	}
}

func TestMigrateInOrderOrNotAtAll(t *testing.T) {
	pool, err := pgxpool.New(t.Context(), newDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	now := time.Now()

	// 0002 needs 0001, and its second statement fails: nothing is applied.
	fsys := fstest.MapFS{
		"migrations/0002_b.sql": {Data: []byte(`ALTER TABLE rooms ADD COLUMN topic text; SELECT nonsense FROM nowhere;`)},
		"migrations/0001_a.sql": {Data: []byte(`CREATE TABLE rooms (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text UNIQUE, created_at timestamptz);`)},
		"migrations/notes.txt":  {Data: []byte(`not a migration`)},
	}
	if err := migrateFS(t.Context(), pool, fsys, now); err == nil || !strings.Contains(err.Error(), "0002_b.sql") {
		t.Fatalf("migrateFS(failing 0002) = %v, want an error naming 0002_b.sql", err)
	}
	if tables := tableNames(t, pool); len(tables) != 0 {
		t.Errorf("tables after a failed migration = %q, want none", tables)
	}

	fsys["migrations/0002_b.sql"] = &fstest.MapFile{Data: []byte(`ALTER TABLE rooms ADD COLUMN topic text;`)}
	if err := migrateFS(t.Context(), pool, fsys, now); err != nil {
		t.Fatalf("migrateFS() = %v", err)
	}
	var name string
	if err := pool.QueryRow(t.Context(), `SELECT name FROM rooms WHERE topic IS NULL`).Scan(&name); err != nil || name != parley.DefaultRoom {
		t.Errorf("rooms after migrating = %q, %v; want %q", name, err, parley.DefaultRoom)
	}
	if got, want := tableNames(t, pool), []string{"migrations", "rooms"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("tables = %q, want %q", got, want)
	}
}

func tableNames(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, _ := pool.Query(t.Context(), `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// TestOpenErrors checks that Open fails, without repeating a password, on
// URLs it cannot use.
func TestOpenErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	good := newDatabase(t)
	for _, url := range []string{
		"postgres://ana:hunter2@%zz/parley",
		"postgres://ana:hunter2@127.0.0.1:1/parley?connect_timeout=5",
		"postgres://ana:hunter2@127.0.0.1/parley?sslmode=nonsense",
		strings.Replace(good, "/test_", "/missing_", 1),
	} {
		db, err := Open(ctx, url)
		if err == nil {
			db.Close()
			t.Errorf("Open(%q) = nil error, want an error", url)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open(%q) = %q, which shows the password", url, err)
		}
	}
}

// TestMigrateRekeysSessions upgrades a database whose sessions were keyed
// by the old parley.NickKey (the lower case): 0003 keys them anew, and of
// two guests whose names are now one, the one who came first keeps it.
func TestMigrateRekeysSessions(t *testing.T) {
	url := newDatabase(t)
	pool, err := pgxpool.New(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	ctx := t.Context()
	old := fstest.MapFS{}
	for _, name := range []string{"0001_init.sql", "0002_sessions.sql"} {
		data, err := migrations.ReadFile("migrations/" + name)
		if err != nil {
			t.Fatal(err)
		}
		old["migrations/"+name] = &fstest.MapFile{Data: data}
	}
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	if err := migrateFS(ctx, pool, old, now); err != nil {
		t.Fatalf("migrateFS(0001, 0002) = %v", err)
	}
	// As the version before accounts stored them: nick_key in lower case.
	sessions := []struct {
		nick    string
		created time.Time
		expires time.Time
	}{
		{"alice", now.Add(-2 * time.Hour), now.Add(time.Hour)},
		{"\u0430lice", now.Add(-time.Hour), now.Add(time.Hour)}, // a Cyrillic а
		{"Bob", now.Add(-time.Hour), now.Add(time.Hour)},
		{"Mallory", now.Add(-time.Hour), now.Add(time.Hour)}, // keyed "rnallory" now
		// An expired session yields its name to a live one, though older.
		{"carol", now.Add(-3 * time.Hour), now.Add(-time.Minute)},
		{"c\u0430rol", now.Add(-time.Hour), now.Add(time.Hour)},
		// Of two expired ones, the older stays, to be swept.
		{"dave", now.Add(-3 * time.Hour), now.Add(-time.Hour)},
		{"d\u0430ve", now.Add(-2 * time.Hour), now.Add(-time.Minute)},
	}
	for _, s := range sessions {
		if _, err := pool.Exec(ctx, `
			INSERT INTO sessions (token_hash, nick, nick_key, created_at, expires_at)
			VALUES ($1, $2, lower($2), $3, $4)`, "hash-"+s.nick, s.nick, s.created, s.expires); err != nil {
			t.Fatal(err)
		}
	}
	if err := migrateFS(ctx, pool, migrations, now); err != nil {
		t.Fatalf("migrateFS(all) = %v", err)
	}

	rows, _ := pool.Query(ctx, `SELECT nick, nick_key, kind FROM sessions ORDER BY nick`)
	type row struct{ Nick, Key, Kind string }
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil {
		t.Fatal(err)
	}
	want := []row{
		{"Bob", parley.NickKey("Bob"), "guest"},
		{"Mallory", parley.NickKey("Mallory"), "guest"},
		{"alice", parley.NickKey("alice"), "guest"},
		{"c\u0430rol", parley.NickKey("carol"), "guest"},
		{"dave", parley.NickKey("dave"), "guest"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sessions after 0003 = %q, want %q", got, want)
	}
	if parley.NickKey("Mallory") == "mallory" {
		t.Fatal(`NickKey("Mallory") == "mallory": the test shows no rekeying`)
	}

	// The store goes on from there: guests' names are unique under the
	// new key, and alice's name is hers.
	db := mustOpen(t, url, WithNow(func() time.Time { return now }))
	if _, err := db.CreateSession(ctx, "ALICE", time.Hour); parley.CodeOf(err) != parley.CodeNicknameTaken {
		t.Errorf("CreateSession(ALICE) after the migration = %v, want nickname_taken", err)
	}
	for _, nick := range []string{"b0b", "rnallory"} {
		if _, err := db.CreateSession(ctx, nick, time.Hour); parley.CodeOf(err) != parley.CodeNicknameTaken {
			t.Errorf("CreateSession(%q) after the migration = %v, want nickname_taken", nick, err)
		}
	}
	if err := db.CreateAccount(ctx, &parley.Account{Name: "Dave", PasswordHash: "$argon2id$x"}); err != nil {
		t.Errorf("CreateAccount(Dave) over an expired guest's session = %v", err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO sessions (token_hash, nick, nick_key, created_at, expires_at) VALUES ('x', 'Bob', $1, $2, $2)`,
		parley.NickKey("Bob"), now); err == nil {
		t.Error("a second guest's session of Bob's key was stored, want a unique violation")
	}
}
