package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley"
)

// admin connects to the database at url beside the store under test, as an
// operator (or an attacker) would.
func admin(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// TestDatabaseFailures breaks the schema under a DB and checks that every
// method reports an Internal error (never NotFound or Invalid, which would
// mislead its caller), and that the writers go on working once the
// database is repaired.
func TestDatabaseFailures(t *testing.T) {
	url := newDatabase(t)
	db := mustOpen(t, url)
	mustAppend(t, db, message("ana", "c-1", "hello"))
	if _, err := db.Join(t.Context(), parley.DefaultRoom, "ana"); err != nil {
		t.Fatal(err)
	}
	token, err := db.CreateSession(t.Context(), "ana", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	hash := parley.HashPassword("password", parley.PasswordParams{Memory: 8, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16})
	if err := db.CreateAccount(t.Context(), &parley.Account{Name: "zoe", PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	zoes, err := db.CreateAccountSession(t.Context(), "zoe", parley.SessionAccount, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"bo", "cy"} {
		if err := db.CreateAccount(t.Context(), &parley.Account{Name: name, PasswordHash: hash}); err != nil {
			t.Fatal(err)
		}
	}
	private := parley.NewPrivateRoomName()
	if err := db.CreateRoom(t.Context(), &parley.Room{Name: private, Kind: parley.RoomPrivate, Owner: "zoe"}, []string{"bo"}); err != nil {
		t.Fatal(err)
	}
	newPrivate := parley.NewPrivateRoomName()
	createRoom := func() error {
		return db.CreateRoom(t.Context(), &parley.Room{Name: newPrivate, Kind: parley.RoomPrivate, Owner: "zoe"}, nil)
	}
	other := admin(t, url)
	exec := func(query string) {
		t.Helper()
		if _, err := other.Exec(t.Context(), query); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	exec(`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no'; END $$`)
	exec(`CREATE FUNCTION skip() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$`)
	ctx := t.Context()
	e := message("ana", "c-2", "hello")
	appendCall := func() error { _, err := db.Append(ctx, &e); return err }
	calls := []struct {
		name   string
		damage string
		call   func() error
		fix    string
	}{
		{"Append", `ALTER TABLE entries RENAME TO broken`, appendCall, `ALTER TABLE broken RENAME TO entries`},
		{"Entries", `ALTER TABLE entries RENAME TO broken`, func() error { _, err := db.Entries(ctx, parley.DefaultRoom, parley.Page{Limit: 1}); return err }, `ALTER TABLE broken RENAME TO entries`},
		{"Join", `ALTER TABLE members RENAME TO broken`, func() error { _, err := db.Join(ctx, parley.DefaultRoom, "bob"); return err }, `ALTER TABLE broken RENAME TO members`},
		{"Leave", `ALTER TABLE members RENAME TO broken`, func() error { _, err := db.Leave(ctx, parley.DefaultRoom, "ana"); return err }, `ALTER TABLE broken RENAME TO members`},
		{"Members", `ALTER TABLE members RENAME TO broken`, func() error { _, err := db.Members(ctx); return err }, `ALTER TABLE broken RENAME TO members`},
		{"Room", `ALTER TABLE rooms RENAME TO broken`, func() error { _, err := db.Room(ctx, parley.DefaultRoom); return err }, `ALTER TABLE broken RENAME TO rooms`},
		{"Rooms", `ALTER TABLE rooms RENAME TO broken`, func() error { _, err := db.Rooms(ctx, "", parley.MaxPageSize); return err }, `ALTER TABLE broken RENAME TO rooms`},
		{"EnsureRoom", `ALTER TABLE rooms RENAME TO broken`, func() error { _, err := db.EnsureRoom(ctx, "new"); return err }, `ALTER TABLE broken RENAME TO rooms`},
		{"Entries of a room", `ALTER TABLE rooms RENAME TO broken`, func() error { _, err := db.Entries(ctx, parley.DefaultRoom, parley.Page{Limit: 1}); return err }, `ALTER TABLE broken RENAME TO rooms`},
		{"Append to a room", `ALTER TABLE rooms RENAME COLUMN last_seq TO broken`, appendCall, `ALTER TABLE rooms RENAME COLUMN broken TO last_seq`},
		{"Session", `ALTER TABLE sessions RENAME TO broken`, func() error { _, err := db.Session(ctx, token); return err }, `ALTER TABLE broken RENAME TO sessions`},
		{"CreateSession", `ALTER TABLE sessions RENAME TO broken`, func() error { _, err := db.CreateSession(ctx, "bob", time.Hour); return err }, `ALTER TABLE broken RENAME TO sessions`},
		{"CreateSession", `ALTER TABLE sessions RENAME COLUMN nick TO broken`, func() error { _, err := db.CreateSession(ctx, "bob", time.Hour); return err }, `ALTER TABLE sessions RENAME COLUMN broken TO nick`},
		{"ExtendSession", `ALTER TABLE sessions RENAME TO broken`, func() error { return db.ExtendSession(ctx, token, time.Hour) }, `ALTER TABLE broken RENAME TO sessions`},
		{"EndSession", `ALTER TABLE sessions RENAME TO broken`, func() error { return db.EndSession(ctx, token) }, `ALTER TABLE broken RENAME TO sessions`},
		{"CreateAccount", `ALTER TABLE accounts RENAME TO broken`, func() error {
			return db.CreateAccount(ctx, &parley.Account{Name: "bob", PasswordHash: hash})
		}, `ALTER TABLE broken RENAME TO accounts`},
		{"Account", `ALTER TABLE accounts RENAME TO broken`, func() error { _, err := db.Account(ctx, "zoe"); return err }, `ALTER TABLE broken RENAME TO accounts`},
		{"HasAccounts", `ALTER TABLE accounts RENAME TO broken`, func() error { _, err := db.HasAccounts(ctx); return err }, `ALTER TABLE broken RENAME TO accounts`},
		{"Session of an account", `ALTER TABLE accounts RENAME TO broken`, func() error { _, err := db.Session(ctx, zoes); return err }, `ALTER TABLE broken RENAME TO accounts`},
		{"UpdateAccount", `ALTER TABLE accounts RENAME TO broken`, func() error { _, err := db.UpdateAccount(ctx, "zoe", parley.AccountUpdate{}); return err }, `ALTER TABLE broken RENAME TO accounts`},
		{"UpdateAccount", `ALTER TABLE sessions RENAME TO broken`, func() error {
			_, err := db.UpdateAccount(ctx, "zoe", parley.AccountUpdate{PasswordHash: &hash})
			return err
		}, `ALTER TABLE broken RENAME TO sessions`},
		{"CreateAccountSession", `ALTER TABLE accounts RENAME TO broken`, func() error {
			_, err := db.CreateAccountSession(ctx, "zoe", parley.SessionToken, "", time.Hour)
			return err
		}, `ALTER TABLE broken RENAME TO accounts`},
		{"AccountSessions", `ALTER TABLE sessions RENAME TO broken`, func() error { _, err := db.AccountSessions(ctx, "zoe"); return err }, `ALTER TABLE broken RENAME TO sessions`},
		{"EndAccountSession", `ALTER TABLE sessions RENAME TO broken`, func() error { return db.EndAccountSession(ctx, "zoe", parley.HashToken(zoes)) }, `ALTER TABLE broken RENAME TO sessions`},
		{"CreateRoom", `ALTER TABLE room_access RENAME TO broken`, createRoom, `ALTER TABLE broken RENAME TO room_access`},
		{"CreateRoom", `ALTER TABLE accounts RENAME TO broken`, createRoom, `ALTER TABLE broken RENAME TO accounts`},
		{"CreateRoom", `CREATE TRIGGER refuse BEFORE INSERT ON rooms FOR EACH ROW EXECUTE FUNCTION refuse()`, createRoom, `DROP TRIGGER refuse ON rooms`},
		{"Role", `ALTER TABLE room_access RENAME TO broken`, func() error { _, err := db.Role(ctx, private, "zoe"); return err }, `ALTER TABLE broken RENAME TO room_access`},
		{"SetRole", `ALTER TABLE room_access RENAME TO broken`, func() error { return db.SetRole(ctx, private, "zoe", "") }, `ALTER TABLE broken RENAME TO room_access`},
		{"SetRole", `CREATE TRIGGER refuse BEFORE INSERT ON room_access FOR EACH ROW EXECUTE FUNCTION refuse()`, func() error {
			return db.SetRole(ctx, private, "cy", parley.RoleMember)
		}, `DROP TRIGGER refuse ON room_access`},
		{"SetRole", `CREATE TRIGGER refuse BEFORE DELETE ON room_access FOR EACH ROW EXECUTE FUNCTION refuse()`, func() error {
			return db.SetRole(ctx, private, "bo", "")
		}, `DROP TRIGGER refuse ON room_access`},
		{"RoomMembers", `ALTER TABLE room_access RENAME TO broken`, func() error { _, err := db.RoomMembers(ctx, private); return err }, `ALTER TABLE broken RENAME TO room_access`},
		{"VisibleRooms", `ALTER TABLE room_access RENAME TO broken`, func() error { _, err := db.VisibleRooms(ctx, "zoe", "", 10); return err }, `ALTER TABLE broken RENAME TO room_access`},
		{"UpdateRoom", `CREATE TRIGGER refuse BEFORE UPDATE ON rooms FOR EACH ROW EXECUTE FUNCTION refuse()`, func() error {
			topic := "new"
			return db.UpdateRoom(ctx, private, parley.RoomUpdate{Topic: &topic})
		}, `DROP TRIGGER refuse ON rooms`},
		{"Append", `CREATE TRIGGER no_entries BEFORE INSERT ON entries FOR EACH ROW EXECUTE FUNCTION refuse()`, appendCall, `DROP TRIGGER no_entries ON entries`},
		{"Append", `CREATE CONSTRAINT TRIGGER at_commit AFTER INSERT ON entries DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse()`, appendCall, `DROP TRIGGER at_commit ON entries`},
		{"EnsureRoom", `CREATE TRIGGER hide_rooms BEFORE INSERT ON rooms FOR EACH ROW EXECUTE FUNCTION skip()`, func() error { _, err := db.EnsureRoom(ctx, "new"); return err }, `DROP TRIGGER hide_rooms ON rooms`},
	}
	for _, c := range calls {
		exec(c.damage)
		err := c.call()
		exec(c.fix)
		if err == nil || parley.KindOf(err) != parley.Internal {
			t.Errorf("%s() after %s = %v, want an Internal error", c.name, c.damage, err)
		}
	}
	if err := db.Ping(ctx); err != nil {
		t.Errorf("Ping() = %v", err)
	}
	// Nothing of the failed writes was stored, and the writers still work.
	if e := mustAppend(t, db, message("ana", "c-2", "hello")); e.Seq != 3 {
		t.Errorf("Append() after the failures set Seq %d, want 3", e.Seq)
	}
	if _, err := db.Room(ctx, "new"); parley.KindOf(err) != parley.NotFound {
		t.Errorf("Room(%q) = %v, want NotFound", "new", err)
	}
	if s, err := db.Session(ctx, token); err != nil || s.Nick != "ana" {
		t.Errorf("Session() after the failures = %+v, %v; want ana's", s, err)
	}
	if s, err := db.Session(ctx, zoes); err != nil || s.Nick != "zoe" {
		t.Errorf("Session() of zoe's after the failures = %+v, %v; want zoe's", s, err)
	}
	if _, err := db.Account(ctx, "bob"); parley.KindOf(err) != parley.NotFound {
		t.Errorf("Account(bob) after its creation failed = %v, want NotFound", err)
	}
	if _, err := db.Room(ctx, newPrivate); parley.KindOf(err) != parley.NotFound {
		t.Errorf("Room(private) after its creation failed = %v, want NotFound", err)
	}
	if err := createRoom(); err != nil {
		t.Errorf("CreateRoom() after the failures = %v", err)
	}
	if members, err := db.RoomMembers(ctx, private); err != nil || len(members) != 2 || members[0].Name != "bo" {
		t.Errorf("RoomMembers() after failed changes = %v, %v; want bo and zoe", members, err)
	}
}

// TestConnectionLost ends the store's connections from the server's side,
// as a restart of PostgreSQL or a failover does: a call may fail with an
// Internal error, on which its caller retries, and the store reconnects.
func TestConnectionLost(t *testing.T) {
	url := newDatabase(t)
	db := mustOpen(t, url, WithWriters(1))
	mustAppend(t, db, message("ana", "c-1", "hello"))
	if _, err := db.Rooms(t.Context(), "", parley.MaxPageSize); err != nil {
		t.Fatal(err)
	}
	other := admin(t, url)
	var ended int
	err := other.QueryRow(t.Context(), `
		SELECT count(pg_terminate_backend(pid))
		FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = 'parley'`).Scan(&ended)
	if err != nil || ended < 2 {
		t.Fatalf("ending the store's connections: ended %d, %v; want at least 2 (a reader and a writer)", ended, err)
	}

	for i, call := range []func() error{
		func() error { e := message("ana", "c-2", "hello"); _, err := db.Append(t.Context(), &e); return err },
		func() error { _, err := db.Rooms(t.Context(), "", parley.MaxPageSize); return err },
	} {
		// The pool may find out that a connection is gone only by using it.
		if err := call(); err != nil && parley.KindOf(err) != parley.Internal {
			t.Errorf("call %d after losing the connections = %v, want nil or an Internal error", i, err)
		}
	}
	if err := db.Ping(t.Context()); err != nil {
		t.Errorf("Ping() after reconnecting = %v", err)
	}
	// A retry of the send succeeds, once.
	e := message("ana", "c-2", "hello")
	if _, err := db.Append(t.Context(), &e); err != nil || e.Seq != 2 {
		t.Errorf("Append(c-2) again = Seq %d, %v; want 2, nil", e.Seq, err)
	}
}

// TestUnstorableText checks what PostgreSQL cannot store as text (NUL
// characters, invalid UTF-8): a message holding it is Invalid, a room name
// holding it names no room, and neither fails the writes it would have
// shared a transaction with.
func TestUnstorableText(t *testing.T) {
	db := mustOpen(t, newDatabase(t))
	ctx := t.Context()
	for _, e := range []parley.Entry{message("ana", "c-1", "nul \x00 inside"), message("a\x00na", "c-1", "hello")} {
		if _, err := db.Append(ctx, &e); parley.KindOf(err) != parley.Invalid {
			t.Errorf("Append(%q from %q) = %v, want Invalid", e.Text, e.From, err)
		}
	}
	for _, room := range []string{"nul\x00", "bad\xff"} {
		if _, err := db.Room(ctx, room); parley.KindOf(err) != parley.NotFound {
			t.Errorf("Room(%q) = %v, want NotFound", room, err)
		}
		if _, err := db.Entries(ctx, room, parley.Page{Limit: 1}); parley.KindOf(err) != parley.NotFound {
			t.Errorf("Entries(%q) = %v, want NotFound", room, err)
		}
		if _, err := db.Join(ctx, room, "ana"); parley.KindOf(err) != parley.NotFound {
			t.Errorf("Join(%q) = %v, want NotFound", room, err)
		}
	}
	if e := mustAppend(t, db, message("ana", "c-1", "hello")); e.Seq != 1 {
		t.Errorf("Append() after refused ones set Seq %d, want 1", e.Seq)
	}
}

func TestWithNow(t *testing.T) {
	clock := time.Date(2026, 11, 22, 9, 30, 1, 512_999_999, time.FixedZone("CET", 3600))
	db := mustOpen(t, newDatabase(t), WithNow(func() time.Time { return clock }))
	want := time.Date(2026, 11, 22, 8, 30, 1, 512_999_000, time.UTC)

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
	token, err := db.CreateSession(t.Context(), "ana", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s, err := db.Session(t.Context(), token)
	if err != nil {
		t.Fatal(err)
	}
	dup := message("ana", "c-1", "again")
	if _, err := db.Append(t.Context(), &dup); err != nil {
		t.Fatal(err)
	}
	for what, got := range map[string]time.Time{
		"EnsureRoom().CreatedAt":       r.CreatedAt,
		"Append().At":                  e.At,
		"Append(retry).At":             dup.At,
		"Join().At":                    j.At,
		"Entries()[0].At":              stored[0].At,
		"Entries()[1].At":              stored[1].At,
		"Session().CreatedAt":          s.CreatedAt,
		"Session().ExpiresAt - 1 hour": s.ExpiresAt.Add(-time.Hour),
	} {
		// Times are kept to the microsecond, in UTC, and read back as
		// they were returned.
		if got != want {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
}

// TestSessionTokensAreStoredHashed reads the sessions table as an attacker
// who copied the database would: no token that could be presented is in
// it.
func TestSessionTokensAreStoredHashed(t *testing.T) {
	url := newDatabase(t)
	db := mustOpen(t, url)
	token, err := db.CreateSession(t.Context(), "ana", time.Hour)
	if err != nil {
		t.Fatalf("CreateSession() = %v", err)
	}
	var row string
	if err := admin(t, url).QueryRow(t.Context(), `SELECT sessions::text FROM sessions`).Scan(&row); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(row, token) {
		t.Errorf("sessions row %s holds the token %q", row, token)
	}
	if !strings.Contains(row, parley.HashToken(token)) {
		t.Errorf("sessions row %s does not hold the token's hash", row)
	}
}

// TestExpiredSessionsAreSwept: expired sessions do not pile up; each new
// session sweeps some away.
func TestExpiredSessionsAreSwept(t *testing.T) {
	url := newDatabase(t)
	db := mustOpen(t, url)
	for i := range 10 {
		if _, err := db.CreateSession(t.Context(), fmt.Sprint("gone", i), -time.Minute); err != nil {
			t.Fatalf("CreateSession() = %v", err)
		}
	}
	if _, err := db.CreateSession(t.Context(), "ana", time.Hour); err != nil {
		t.Fatalf("CreateSession() = %v", err)
	}
	var n int
	if err := admin(t, url).QueryRow(t.Context(), `SELECT count(*) FROM sessions`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("sessions table holds %d rows after 10 expired and 1 live session, want 1", n)
	}
}

// TestPingAfterFailedWrite: a database whose writes fail (here a trigger
// stands in for a full disk) is not ready, though it reads; it is ready
// again once it can write.
func TestPingAfterFailedWrite(t *testing.T) {
	url := newDatabase(t)
	db := mustOpen(t, url, WithWriters(1))
	ctx := t.Context()
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping() = %v", err)
	}
	other := admin(t, url)
	if _, err := other.Exec(ctx, `
		CREATE FUNCTION full_disk() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$ LANGUAGE plpgsql;
		CREATE TRIGGER no_writes BEFORE UPDATE ON rooms FOR EACH ROW EXECUTE FUNCTION full_disk()`); err != nil {
		t.Fatal(err)
	}
	e := message("ana", "c-1", "hello")
	if _, err := db.Append(ctx, &e); err == nil {
		t.Fatal("Append() = nil with writes failing")
	}
	if _, err := db.Room(ctx, parley.DefaultRoom); err != nil {
		t.Fatalf("Room() = %v: reads still work", err)
	}
	if err := db.Ping(ctx); err == nil {
		t.Error("Ping() = nil while every write fails, want an error")
	}
	if _, err := other.Exec(ctx, `DROP TRIGGER no_writes ON rooms`); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(ctx); err != nil {
		t.Errorf("Ping() = %v once writes work again, want nil", err)
	}
	if e := mustAppend(t, db, message("ana", "c-1", "hello")); e.Seq != 1 {
		t.Errorf("Append() after the failure = seq %d, want 1", e.Seq)
	}
}

// TestAccountsUnstorable: names that PostgreSQL cannot hold name no
// account, and hashes it cannot hold, or a session of a kind not an
// account's, are Invalid; none fails the writes it would have shared a
// transaction with.
func TestAccountsUnstorable(t *testing.T) {
	db := mustOpen(t, newDatabase(t))
	ctx := t.Context()
	for _, name := range []string{"nul\x00", "bad\xff"} {
		if _, err := db.Account(ctx, name); parley.KindOf(err) != parley.NotFound {
			t.Errorf("Account(%q) = %v, want NotFound", name, err)
		}
		if _, err := db.UpdateAccount(ctx, name, parley.AccountUpdate{}); parley.KindOf(err) != parley.NotFound {
			t.Errorf("UpdateAccount(%q) = %v, want NotFound", name, err)
		}
		if _, err := db.CreateAccountSession(ctx, name, parley.SessionAccount, "", time.Hour); parley.KindOf(err) != parley.NotFound {
			t.Errorf("CreateAccountSession(%q) = %v, want NotFound", name, err)
		}
		if list, err := db.AccountSessions(ctx, name); err != nil || len(list) != 0 {
			t.Errorf("AccountSessions(%q) = %v, %v; want none", name, list, err)
		}
		if err := db.EndAccountSession(ctx, name, "id"); parley.KindOf(err) != parley.NotFound {
			t.Errorf("EndAccountSession(%q) = %v, want NotFound", name, err)
		}
	}
	bad := "$argon2id$\x00"
	if err := db.CreateAccount(ctx, &parley.Account{Name: "ana", PasswordHash: bad}); parley.KindOf(err) != parley.Invalid {
		t.Errorf("CreateAccount(hash with NUL) = %v, want Invalid", err)
	}
	hash := parley.HashPassword("password", parley.PasswordParams{Memory: 8, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16})
	if err := db.CreateAccount(ctx, &parley.Account{Name: "ana", PasswordHash: hash}); err != nil {
		t.Fatalf("CreateAccount(ana) = %v", err)
	}
	if _, err := db.UpdateAccount(ctx, "ana", parley.AccountUpdate{PasswordHash: &bad}); parley.KindOf(err) != parley.Invalid {
		t.Errorf("UpdateAccount(hash with NUL) = %v, want Invalid", err)
	}
	for _, kind := range []parley.SessionKind{parley.SessionGuest, "robot"} {
		if _, err := db.CreateAccountSession(ctx, "ana", kind, "", time.Hour); parley.KindOf(err) != parley.Invalid {
			t.Errorf("CreateAccountSession(ana, %q) = %v, want Invalid", kind, err)
		}
	}
	if a, err := db.Account(ctx, "ana"); err != nil || a.PasswordHash != hash {
		t.Errorf("Account(ana) after refused updates = %+v, %v; want her hash unchanged", a, err)
	}
}
