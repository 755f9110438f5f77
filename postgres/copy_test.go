package postgres

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

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
	hash := parley.HashPassword("password", parley.PasswordParams{Memory: 8, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16})
	accounts := func() error {
		return db.ImportAccounts(ctx, []*parley.Account{{Name: "ana", PasswordHash: hash, CreatedAt: at}})
	}
	roomMembers := func() error {
		return db.ImportRoomMembers(ctx, []parley.RoomMember{{Room: parley.DefaultRoom, Name: "ana", Role: parley.RoleMember}})
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
		{"Accounts", `ALTER TABLE accounts RENAME TO broken`, func() error { _, err := db.Accounts(ctx, "", 1); return err }, `ALTER TABLE broken RENAME TO accounts`},
		{"ImportAccounts", refuse("accounts"), accounts, `DROP TRIGGER refuse ON accounts`},
		{"ImportRoomMembers", `ALTER TABLE rooms RENAME TO broken`, roomMembers, `ALTER TABLE broken RENAME TO rooms`},
		{"ImportRoomMembers", refuse("room_access"), roomMembers, `DROP TRIGGER refuse ON room_access`},
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
	for _, call := range []func() error{rooms, entries, members, sessions, accounts, roomMembers} {
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
	if err := db.ImportRoomMembers(ctx, []parley.RoomMember{{Room: bad, Name: "ana", Role: parley.RoleMember}}); parley.KindOf(err) != parley.NotFound {
		t.Errorf("ImportRoomMembers(room %q) = %v, want NotFound", bad, err)
	}
	for _, r := range []*parley.Room{
		{Name: "ok", Kind: "secret"},
		{Name: "ok", Title: "nul \x00"},
		{Name: "ok", Topic: "bad \xff"},
		{Name: "ok", Owner: "nul\x00"},
	} {
		if err := db.ImportRooms(ctx, []*parley.Room{r}); parley.KindOf(err) != parley.Invalid {
			t.Errorf("ImportRooms(%+v) = %v, want Invalid", r, err)
		}
	}
	for _, m := range []parley.RoomMember{
		{Room: parley.DefaultRoom, Name: "ana", Role: "admin"},
		{Room: parley.DefaultRoom, Name: "nul\x00", Role: parley.RoleMember},
	} {
		if err := db.ImportRoomMembers(ctx, []parley.RoomMember{m}); parley.KindOf(err) != parley.Invalid {
			t.Errorf("ImportRoomMembers(%+v) = %v, want Invalid", m, err)
		}
	}
	if _, err := db.Room(ctx, "ok"); parley.KindOf(err) != parley.NotFound {
		t.Errorf("Room(ok) after refused imports = %v, want NotFound", err)
	}
	for _, empty := range []func() error{
		func() error { return db.ImportRoomMembers(ctx, nil) },
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

// TestCopyAccounts copies accounts and their sessions from one store into
// another through Accounts, Sessions and the imports: everyone stays
// signed in, as admin or not, and every name stays taken.
func TestCopyAccounts(t *testing.T) {
	ctx := t.Context()
	src := mustOpen(t, newDatabase(t))
	hash := parley.HashPassword("password", parley.PasswordParams{Memory: 8, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16})
	// Names whose keys sort otherwise than they do: "Mallory" is keyed
	// "rnallory".
	for _, name := range []string{"Mallory", "ana", "Bob", "zed", "Carol"} {
		if err := src.CreateAccount(ctx, &parley.Account{Name: name, DisplayName: "The " + name, PasswordHash: hash, Admin: name == "ana"}); err != nil {
			t.Fatalf("CreateAccount(%q) = %v", name, err)
		}
	}
	off := false
	if _, err := src.UpdateAccount(ctx, "zed", parley.AccountUpdate{Active: &off}); err != nil {
		t.Fatal(err)
	}
	bot, err := src.CreateAccountSession(ctx, "ana", parley.SessionToken, "deploy bot", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	guest, err := src.CreateSession(ctx, "dee", time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	var accounts []*parley.Account
	after := ""
	for {
		page, err := src.Accounts(ctx, after, 2)
		if err != nil {
			t.Fatalf("Accounts(%q, 2) = %v", after, err)
		}
		if len(page) == 0 {
			break
		}
		accounts = append(accounts, page...)
		after = page[len(page)-1].Name
	}
	var names []string
	for _, a := range accounts {
		names = append(names, a.Name)
		want, err := src.Account(ctx, a.Name)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, a); diff != "" {
			t.Errorf("Accounts() holds %q otherwise than Account() (-want +got):\n%s", a.Name, diff)
		}
	}
	if got, want := strings.Join(names, " "), "ana Bob Carol Mallory zed"; got != want {
		t.Errorf("Accounts() by 2 = %s, want %s: every account once, in the order of their keys", got, want)
	}
	sessions, err := src.Sessions(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}

	dst := mustOpen(t, newDatabase(t))
	if err := dst.ImportAccounts(ctx, accounts); err != nil {
		t.Fatalf("ImportAccounts() = %v", err)
	}
	if err := dst.ImportSessions(ctx, sessions); err != nil {
		t.Fatalf("ImportSessions() = %v", err)
	}
	for _, a := range accounts {
		got, err := dst.Account(ctx, a.Name)
		if err != nil {
			t.Fatalf("Account(%q) after the import = %v", a.Name, err)
		}
		if diff := cmp.Diff(a, got); diff != "" {
			t.Errorf("Account(%q) after the import (-want +got):\n%s", a.Name, diff)
		}
	}
	if s, err := dst.Session(ctx, bot); err != nil || s.Kind != parley.SessionToken || s.Label != "deploy bot" || !s.Admin || s.Nick != "ana" {
		t.Errorf("Session(ana's bot) after the import = %+v, %v; want ana's admin token, labelled", s, err)
	}
	if s, err := dst.Session(ctx, guest); err != nil || s.Kind != parley.SessionGuest || s.Nick != "dee" {
		t.Errorf("Session(guest dee) after the import = %+v, %v", s, err)
	}
	for _, nick := range []string{"ANA", "zed", "dee"} {
		if _, err := dst.CreateSession(ctx, nick, time.Hour); parley.CodeOf(err) != parley.CodeNicknameTaken {
			t.Errorf("CreateSession(%q) after the import = %v, want nickname_taken", nick, err)
		}
	}
	if _, err := dst.CreateAccountSession(ctx, "zed", parley.SessionAccount, "", time.Hour); parley.KindOf(err) != parley.NotFound {
		t.Errorf("CreateAccountSession(deactivated zed) after the import = %v, want NotFound", err)
	}
}

// TestImportAccountsRefuses: imports that would break a rule store
// nothing.
func TestImportAccountsRefuses(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t, newDatabase(t))
	hash := parley.HashPassword("password", parley.PasswordParams{Memory: 8, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16})
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	account := func(name string) *parley.Account {
		return &parley.Account{Name: name, PasswordHash: hash, CreatedAt: at}
	}
	if err := db.ImportAccounts(ctx, []*parley.Account{account("ana")}); err != nil {
		t.Fatalf("ImportAccounts(ana) = %v", err)
	}
	session := func(hash string, kind parley.SessionKind) parley.StoredSession {
		return parley.StoredSession{TokenHash: hash, Session: parley.Session{Nick: "bob", Kind: kind, CreatedAt: at, ExpiresAt: at}}
	}
	mismatched := session("h-1", parley.SessionGuest)
	mismatched.ID = "h-2"
	for _, tt := range []struct {
		name string
		call func() error
		want parley.Kind
	}{
		{"a name taken", func() error { return db.ImportAccounts(ctx, []*parley.Account{account("bob"), account("\u0430na")}) }, parley.Internal},
		{"no password hash", func() error { return db.ImportAccounts(ctx, []*parley.Account{{Name: "bob", CreatedAt: at}}) }, parley.Invalid},
		{"NUL in the hash", func() error {
			return db.ImportAccounts(ctx, []*parley.Account{{Name: "bob", PasswordHash: hash + "\x00", CreatedAt: at}})
		}, parley.Invalid},
		{"unknown kind", func() error { return db.ImportSessions(ctx, []parley.StoredSession{session("h-1", "robot")}) }, parley.Invalid},
		{"ID not the hash", func() error { return db.ImportSessions(ctx, []parley.StoredSession{mismatched}) }, parley.Invalid},
		{"limit 0", func() error { _, err := db.Accounts(ctx, "", 0); return err }, parley.Invalid},
		{"after not UTF-8", func() error { _, err := db.Accounts(ctx, "\xff", 1); return err }, parley.Invalid},
	} {
		if err := tt.call(); err == nil || parley.KindOf(err) != tt.want {
			t.Errorf("%s: %v, want an error of kind %v", tt.name, err, tt.want)
		}
	}
	if a, err := db.Accounts(ctx, "", 10); err != nil || len(a) != 1 {
		t.Errorf("Accounts() after the refused imports = %v, %v; want ana's alone", a, err)
	}
	if s, err := db.Sessions(ctx, "", 10); err != nil || len(s) != 0 {
		t.Errorf("Sessions() after the refused imports = %v, %v; want none", s, err)
	}
	if err := db.ImportAccounts(ctx, nil); err != nil {
		t.Errorf("ImportAccounts(nil) = %v", err)
	}
}
