package postgres

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parley-chat/parley"
)

// TestSessions lists sessions as stored, expired ones included, a page at
// a time.
func TestSessions(t *testing.T) {
	clock := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	db := mustOpen(t, newDatabase(t), WithNow(func() time.Time { return clock }))
	ctx := t.Context()
	want := map[string]parley.StoredSession{}
	for i, nick := range []string{"Ana", "bob", "cy", "dee"} {
		ttl := time.Duration(i+1) * time.Hour
		token, err := db.CreateSession(ctx, nick, ttl)
		if err != nil {
			t.Fatalf("CreateSession(%q) = %v", nick, err)
		}
		hash := parley.HashToken(token)
		want[hash] = parley.StoredSession{TokenHash: hash, Session: parley.Session{Nick: nick, CreatedAt: clock, ExpiresAt: clock.Add(ttl)}}
	}
	clock = clock.Add(90 * time.Minute) // Ana's has expired; it is listed all the same

	got := map[string]parley.StoredSession{}
	after := ""
	for pages := 0; ; pages++ {
		page, err := db.Sessions(ctx, after, 3)
		if err != nil {
			t.Fatalf("Sessions(%q, 3) = %v", after, err)
		}
		if len(page) == 0 {
			if pages != 2 {
				t.Errorf("Sessions() of 4 sessions by 3 = %d pages before an empty one, want 2", pages)
			}
			break
		}
		for _, s := range page {
			if s.TokenHash <= after {
				t.Errorf("Sessions(%q, 3) = %q, out of order", after, s.TokenHash)
			}
			after = s.TokenHash
			got[s.TokenHash] = s
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Sessions() differ from the sessions created (-want +got):\n%s", diff)
	}
	if _, err := db.Sessions(ctx, "", 0); parley.KindOf(err) != parley.Invalid {
		t.Errorf("Sessions(\"\", 0) = %v, want Invalid", err)
	}
}

// TestImport imports rooms, entries, members and sessions into a store
// and reads them back through parley.Store, which goes on from them.
func TestImport(t *testing.T) {
	db := mustOpen(t, newDatabase(t))
	ctx := t.Context()
	// The writer remembers the room it has used, with its creation time,
	// which the import replaces.
	if _, err := db.EnsureRoom(ctx, parley.DefaultRoom); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2025, 3, 4, 5, 6, 7, 8_123_000, time.UTC) // to the microsecond, as PostgreSQL keeps it
	rooms := []*parley.Room{{Name: parley.DefaultRoom, CreatedAt: t0}, {Name: "dev", CreatedAt: t0.Add(time.Minute), LastSeq: 99}}
	if err := db.ImportRooms(ctx, rooms); err != nil {
		t.Fatalf("ImportRooms() = %v", err)
	}
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	general := []*parley.Entry{
		{Room: parley.DefaultRoom, Seq: 1, Kind: parley.KindJoin, From: "ana", At: at(2)},
		{Room: parley.DefaultRoom, Seq: 2, Kind: parley.KindMessage, From: "ana", Text: "hello", ClientID: "c-1", At: at(3)},
		{Room: parley.DefaultRoom, Seq: 3, Kind: parley.KindLeave, From: "ana", At: at(4)},
	}
	dev := []*parley.Entry{
		{Room: "dev", Seq: 1, Kind: parley.KindJoin, From: "bob", At: at(5)},
		{Room: "dev", Seq: 2, Kind: parley.KindMessage, From: "bob", Text: "build is green", ClientID: "b-1", At: at(6)},
	}
	// Two transactions, the second going on from the first.
	for _, batch := range [][]*parley.Entry{{general[0], dev[0], general[1]}, {general[2], dev[1]}} {
		if err := db.ImportEntries(ctx, batch); err != nil {
			t.Fatalf("ImportEntries() = %v", err)
		}
	}
	members := []parley.Member{{Room: "dev", Nick: "bob"}}
	if err := db.ImportMembers(ctx, members); err != nil {
		t.Fatalf("ImportMembers() = %v", err)
	}
	token := parley.NewToken()
	sessions := []parley.StoredSession{
		{TokenHash: parley.HashToken(token), Session: parley.Session{Nick: "Ana", CreatedAt: at(1), ExpiresAt: time.Now().Add(time.Hour).Truncate(time.Millisecond).UTC()}},
		{TokenHash: parley.HashToken("gone"), Session: parley.Session{Nick: "old", CreatedAt: at(1), ExpiresAt: at(2)}},
	}
	if err := db.ImportSessions(ctx, sessions); err != nil {
		t.Fatalf("ImportSessions() = %v", err)
	}

	gotRooms, err := db.Rooms(ctx, "", parley.MaxPageSize)
	if err != nil {
		t.Fatal(err)
	}
	wantRooms := []*parley.Room{{Name: "dev", CreatedAt: at(1), LastSeq: 2}, {Name: parley.DefaultRoom, CreatedAt: t0, LastSeq: 3}}
	if diff := cmp.Diff(wantRooms, gotRooms); diff != "" {
		t.Errorf("Rooms() after ImportRooms (-want +got):\n%s", diff)
	}
	if r, err := db.EnsureRoom(ctx, parley.DefaultRoom); err != nil || !r.CreatedAt.Equal(t0) || r.LastSeq != 3 {
		t.Errorf("EnsureRoom(%q) = %+v, %v; want the imported room", parley.DefaultRoom, r, err)
	}
	for room, want := range map[string][]*parley.Entry{parley.DefaultRoom: general, "dev": dev} {
		got, err := db.Entries(ctx, room, parley.Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Entries(%q) after ImportEntries (-want +got):\n%s", room, diff)
		}
	}
	if got, err := db.Members(ctx); err != nil || !cmp.Equal(got, members) {
		t.Errorf("Members() = %v, %v; want %v", got, err, members)
	}
	gotSessions, err := db.Sessions(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sessions, gotSessions, cmp.Transformer("byHash", func(s []parley.StoredSession) map[string]parley.StoredSession {
		m := map[string]parley.StoredSession{}
		for _, x := range s {
			m[x.TokenHash] = x
		}
		return m
	})); diff != "" {
		t.Errorf("Sessions() after ImportSessions (-want +got):\n%s", diff)
	}

	// The store goes on from what it imported.
	if s, err := db.Session(ctx, token); err != nil || s.Nick != "Ana" {
		t.Errorf("Session(imported token) = %+v, %v; want Ana's", s, err)
	}
	if _, err := db.Session(ctx, "gone"); parley.KindOf(err) != parley.Unauthenticated {
		t.Errorf("Session(expired imported token) = %v, want Unauthenticated", err)
	}
	if _, err := db.CreateSession(ctx, "ana", time.Hour); parley.CodeOf(err) != parley.CodeNicknameTaken {
		t.Errorf("CreateSession(\"ana\") = %v, want nickname_taken: the imported session holds Ana", err)
	}
	retry := message("ana", "c-1", "hello again")
	if dup, err := db.Append(ctx, &retry); err != nil || !dup || retry.Seq != 2 || retry.Text != "hello" || !retry.At.Equal(at(3)) {
		t.Errorf("Append(retry of imported c-1) = %v, %v, %+v; want dup of entry 2", dup, err, retry)
	}
	next := mustAppend(t, db, message("ana", "c-2", "back"))
	if next.Seq != 4 {
		t.Errorf("Append() after import = seq %d, want 4", next.Seq)
	}
	if e, err := db.Join(ctx, "dev", "bob"); err != nil || e != nil {
		t.Errorf("Join(dev, bob) = %+v, %v; want nil, nil: bob's membership was imported", e, err)
	}
	if e, err := db.Join(ctx, "dev", "cy"); err != nil || e == nil || e.Seq != 3 {
		t.Errorf("Join(dev, cy) = %+v, %v; want entry 3", e, err)
	}
}

// TestImportRefuses: an import that cannot be made stores nothing at all.
func TestImportRefuses(t *testing.T) {
	db := mustOpen(t, newDatabase(t))
	ctx := t.Context()
	mustAppend(t, db, message("ana", "c-1", "hello"))
	if _, err := db.EnsureRoom(ctx, "empty"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Join(ctx, "empty", "ana"); err != nil { // entry 1 of empty
		t.Fatal(err)
	}
	if _, err := db.CreateSession(ctx, "ana", time.Hour); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	entry := func(room string, seq int64, clientID string) *parley.Entry {
		return &parley.Entry{Room: room, Seq: seq, Kind: parley.KindMessage, From: "ana", Text: "x", ClientID: clientID, At: at}
	}
	session := func(hash, nick string) parley.StoredSession {
		return parley.StoredSession{TokenHash: hash, Session: parley.Session{Nick: nick, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}}
	}
	tests := []struct {
		name     string
		call     func() error
		wantKind parley.Kind
	}{
		{"room with entries", func() error {
			return db.ImportRooms(ctx, []*parley.Room{{Name: "new", CreatedAt: at}, {Name: parley.DefaultRoom, CreatedAt: at}})
		}, parley.Internal},
		{"bad room name", func() error { return db.ImportRooms(ctx, []*parley.Room{{Name: " "}}) }, parley.Invalid},
		{"entry of unknown room", func() error {
			return db.ImportEntries(ctx, []*parley.Entry{entry("empty", 2, "x-1"), entry("nowhere", 1, "x-2")})
		}, parley.NotFound},
		{"entry before the room's last", func() error {
			return db.ImportEntries(ctx, []*parley.Entry{entry("empty", 2, "x-1"), entry(parley.DefaultRoom, 1, "x-2")})
		}, parley.Invalid},
		{"entries out of order", func() error {
			return db.ImportEntries(ctx, []*parley.Entry{entry("empty", 3, "x-1"), entry("empty", 2, "x-2")})
		}, parley.Invalid},
		{"client id used", func() error {
			return db.ImportEntries(ctx, []*parley.Entry{entry("empty", 2, "x-1"), entry(parley.DefaultRoom, 2, "c-1")})
		}, parley.Internal},
		{"bad kind", func() error {
			e := entry("empty", 2, "")
			e.Kind = "edit"
			return db.ImportEntries(ctx, []*parley.Entry{e})
		}, parley.Internal},
		{"member of unknown room", func() error {
			return db.ImportMembers(ctx, []parley.Member{{Room: "empty", Nick: "bob"}, {Room: "nowhere", Nick: "bob"}})
		}, parley.NotFound},
		{"member already", func() error {
			return db.ImportMembers(ctx, []parley.Member{{Room: parley.DefaultRoom, Nick: "bob"}, {Room: "empty", Nick: "ana"}})
		}, parley.Internal},
		{"nickname held", func() error {
			return db.ImportSessions(ctx, []parley.StoredSession{session("h-1", "bob"), session("h-2", "ANA")})
		}, parley.Internal},
		{"no token hash", func() error { return db.ImportSessions(ctx, []parley.StoredSession{session("", "bob")}) }, parley.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil || parley.KindOf(err) != tt.wantKind {
				t.Fatalf("import = %v, want an error of kind %v", err, tt.wantKind)
			}
			rooms, _ := db.Rooms(ctx, "", parley.MaxPageSize)
			members, _ := db.Members(ctx)
			sessions, _ := db.Sessions(ctx, "", 10)
			if len(rooms) != 2 || rooms[0].LastSeq != 1 || rooms[1].LastSeq != 1 || len(members) != 1 || len(sessions) != 1 {
				t.Errorf("after a failed import: rooms %v, members %v, sessions %v; want what was there before", rooms, members, sessions)
			}
		})
	}

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() error{
		"Sessions":       func() error { _, err := db.Sessions(ctx, "", 1); return err },
		"ImportRooms":    func() error { return db.ImportRooms(ctx, nil) },
		"ImportEntries":  func() error { return db.ImportEntries(ctx, nil) },
		"ImportMembers":  func() error { return db.ImportMembers(ctx, nil) },
		"ImportSessions": func() error { return db.ImportSessions(ctx, nil) },
	} {
		if err := call(); !errors.Is(err, ErrClosed) {
			t.Errorf("%s() after Close = %v, want %v", name, err, ErrClosed)
		}
	}
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
