// Package copytest holds the checks of what a store offers beyond
// parley.Store for parley migrate copy: listing sessions, accounts and
// read markers as stored, and importing rooms, entries, members, accounts,
// sessions and read markers as they were. The sqlite
// and postgres packages run them from their tests, so that the two stores,
// at either end of a copy, keep the same rules.
package copytest

import (
	"cmp"
	"context"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/parley-chat/parley"
)

// Store is a store that a copy reads as stored and fills as it was.
type Store interface {
	parley.Store
	Sessions(ctx context.Context, after string, limit int) ([]parley.StoredSession, error)
	ImportRooms(ctx context.Context, rooms []*parley.Room) error
	ImportEntries(ctx context.Context, entries []*parley.Entry) error
	ImportMembers(ctx context.Context, members []parley.Member) error
	ImportSessions(ctx context.Context, sessions []parley.StoredSession) error
	Accounts(ctx context.Context, after string, limit int) ([]*parley.Account, error)
	ImportAccounts(ctx context.Context, accounts []*parley.Account) error
	ImportRoomMembers(ctx context.Context, members []parley.RoomMember) error
	StoredReadMarkers(ctx context.Context, after parley.StoredReadMarker, limit int) ([]parley.StoredReadMarker, error)
	ImportReadMarkers(ctx context.Context, markers []parley.StoredReadMarker) error
}

// Open opens a store on a new, freshly migrated database of its own, with
// now as its clock, and closes it when the test ends. A store may keep
// times to the millisecond: the checks use no finer times.
type Open func(t *testing.T, now func() time.Time) Store

// Run runs the checks as subtests of t.
func Run(t *testing.T, open Open) {
	t.Run("Sessions", func(t *testing.T) { testSessions(t, open) })
	t.Run("Accounts", func(t *testing.T) { testAccounts(t, open) })
	t.Run("ReadMarkers", func(t *testing.T) { testReadMarkers(t, open) })
	t.Run("Import", func(t *testing.T) { testImport(t, open) })
	t.Run("ImportRefuses", func(t *testing.T) { testImportRefuses(t, open) })
}

// testSessions lists sessions as stored, expired ones included, a page at
// a time.
func testSessions(t *testing.T, open Open) {
	clock := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	db := open(t, func() time.Time { return clock })
	ctx := t.Context()
	want := map[string]parley.StoredSession{}
	for i, nick := range []string{"Ana", "bob", "cy", "dee"} {
		ttl := time.Duration(i+1) * time.Hour
		token, err := db.CreateSession(ctx, nick, ttl)
		if err != nil {
			t.Fatalf("CreateSession(%q) = %v", nick, err)
		}
		hash := parley.HashToken(token)
		want[hash] = parley.StoredSession{TokenHash: hash, Session: parley.Session{ID: hash, Nick: nick, Kind: parley.SessionGuest, CreatedAt: clock, ExpiresAt: clock.Add(ttl)}}
	}
	if err := db.CreateAccount(ctx, &parley.Account{Name: "eve", PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	token, err := db.CreateAccountSession(ctx, "eve", parley.SessionToken, "bot", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	eve := parley.HashToken(token)
	want[eve] = parley.StoredSession{TokenHash: eve, Session: parley.Session{ID: eve, Nick: "eve", Kind: parley.SessionToken, Label: "bot", CreatedAt: clock, ExpiresAt: clock.Add(time.Hour)}}
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
				t.Errorf("Sessions() of 5 sessions by 3 = %d pages before an empty one, want 2", pages)
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
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Errorf("Sessions() differ from the sessions created (-want +got):\n%s", diff)
	}
	if _, err := db.Sessions(ctx, "", 0); parley.KindOf(err) != parley.Invalid {
		t.Errorf("Sessions(\"\", 0) = %v, want Invalid", err)
	}
}

// hash is a password hash of tiny costs.
var hash = parley.HashPassword("password", parley.PasswordParams{Memory: 8, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16})

// testAccounts lists accounts as stored, deactivated ones included, a page
// at a time, and imports them.
func testAccounts(t *testing.T, open Open) {
	clock := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	db := open(t, func() time.Time { return clock })
	ctx := t.Context()
	var want []*parley.Account
	for i, name := range []string{"Cy", "ana", "Bob"} {
		a := &parley.Account{Name: name, DisplayName: "The " + name, PasswordHash: hash, Admin: i == 0}
		if err := db.CreateAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
		want = append(want, a)
	}
	off := false
	clock = clock.Add(time.Minute)
	if _, err := db.UpdateAccount(ctx, "bob", parley.AccountUpdate{Active: &off}); err != nil {
		t.Fatal(err)
	}
	want[2].Deactivated = clock
	want = []*parley.Account{want[1], want[2], want[0]} // by NickKey: ana, bob, cy

	var got []*parley.Account
	for after, pages := "", 0; ; pages++ {
		page, err := db.Accounts(ctx, after, 2)
		if err != nil {
			t.Fatalf("Accounts(%q, 2) = %v", after, err)
		}
		if len(page) == 0 {
			if pages != 2 {
				t.Errorf("Accounts() of 3 accounts by 2 = %d pages before an empty one, want 2", pages)
			}
			break
		}
		got = append(got, page...)
		after = page[len(page)-1].Name
	}
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Errorf("Accounts() differ from the accounts created (-want +got):\n%s", diff)
	}
	if _, err := db.Accounts(ctx, "", 0); parley.KindOf(err) != parley.Invalid {
		t.Errorf("Accounts(\"\", 0) = %v, want Invalid", err)
	}

	other := open(t, time.Now)
	if err := other.ImportAccounts(ctx, got); err != nil {
		t.Fatalf("ImportAccounts() = %v", err)
	}
	again, err := other.Accounts(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := gocmp.Diff(want, again); diff != "" {
		t.Errorf("Accounts() after ImportAccounts (-want +got):\n%s", diff)
	}
	if _, err := other.CreateSession(ctx, "ANA", time.Hour); parley.CodeOf(err) != parley.CodeNicknameTaken {
		t.Errorf("CreateSession(ANA) after importing ana = %v, want nickname_taken", err)
	}
	if err := other.ImportAccounts(ctx, []*parley.Account{{Name: "dee", PasswordHash: hash}, {Name: "Ana", PasswordHash: hash}}); err == nil {
		t.Error("ImportAccounts(a name taken) = nil, want an error")
	}
	if err := other.ImportAccounts(ctx, []*parley.Account{{Name: "dee"}}); parley.KindOf(err) != parley.Invalid {
		t.Errorf("ImportAccounts(no password hash) = %v, want Invalid", err)
	}
	if a, err := other.Account(ctx, "dee"); parley.KindOf(err) != parley.NotFound {
		t.Errorf("Account(dee) after failed imports = %+v, %v; want NotFound", a, err)
	}
}

// testImport imports rooms, entries, members and sessions into a store
// and reads them back through parley.Store, which goes on from them.
func testImport(t *testing.T, open Open) {
	db := open(t, time.Now)
	ctx := t.Context()
	// The writer remembers the room it has used, with its creation time,
	// which the import replaces.
	if _, err := db.EnsureRoom(ctx, parley.DefaultRoom); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2025, 3, 4, 5, 6, 7, 8_000_000, time.UTC)
	secret := parley.NewPrivateRoomName()
	rooms := []*parley.Room{{Name: parley.DefaultRoom, CreatedAt: t0}, {Name: "dev", CreatedAt: t0.Add(time.Minute), LastSeq: 99},
		{Name: secret, Kind: parley.RoomPrivate, Title: "Plans", Topic: "next", Description: "All of it.", Owner: "bo", CreatedAt: t0}}
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
		{Room: "dev", Seq: 3, Kind: parley.KindMessage, From: "bob", ClientID: "b-2", Edited: 4, Deleted: 5, At: at(7)},
		{Room: "dev", Seq: 4, Kind: parley.KindEdit, From: "bob", Target: 3, ClientID: "b-3", Deleted: 5, At: at(8)},
		{Room: "dev", Seq: 5, Kind: parley.KindDelete, From: "bob", Target: 3, ClientID: "b-4", At: at(9)},
	}
	// Two transactions, the second going on from the first.
	for _, batch := range [][]*parley.Entry{{general[0], dev[0], general[1]}, {general[2], dev[1], dev[2], dev[3], dev[4]}} {
		if err := db.ImportEntries(ctx, batch); err != nil {
			t.Fatalf("ImportEntries() = %v", err)
		}
	}
	members := []parley.Member{{Room: "dev", Nick: "bob"}}
	if err := db.ImportMembers(ctx, members); err != nil {
		t.Fatalf("ImportMembers() = %v", err)
	}
	token, botToken := parley.NewToken(), parley.NewToken()
	later := time.Now().Add(time.Hour).Truncate(time.Millisecond).UTC()
	if err := db.ImportAccounts(ctx, []*parley.Account{{Name: "bo", PasswordHash: hash, CreatedAt: at(1)}}); err != nil {
		t.Fatalf("ImportAccounts() = %v", err)
	}
	sessions := []parley.StoredSession{
		{TokenHash: parley.HashToken(token), Session: parley.Session{ID: parley.HashToken(token), Nick: "Ana", Kind: parley.SessionGuest, CreatedAt: at(1), ExpiresAt: later}},
		{TokenHash: parley.HashToken("gone"), Session: parley.Session{ID: parley.HashToken("gone"), Nick: "old", Kind: parley.SessionGuest, CreatedAt: at(1), ExpiresAt: at(2)}},
		{TokenHash: parley.HashToken(botToken), Session: parley.Session{ID: parley.HashToken(botToken), Nick: "bo", Kind: parley.SessionToken, Label: "ci", CreatedAt: at(1), ExpiresAt: later}},
	}
	if err := db.ImportSessions(ctx, sessions); err != nil {
		t.Fatalf("ImportSessions() = %v", err)
	}
	markers := []parley.StoredReadMarker{{NickKey: parley.NickKey("Ana"), Room: parley.DefaultRoom, Seq: 2}, {NickKey: parley.NickKey("bob"), Room: "dev", Seq: 2}}
	if err := db.ImportReadMarkers(ctx, markers); err != nil {
		t.Fatalf("ImportReadMarkers() = %v", err)
	}

	gotRooms, err := db.Rooms(ctx, "", parley.MaxPageSize)
	if err != nil {
		t.Fatal(err)
	}
	wantRooms := []*parley.Room{{Name: "dev", Kind: parley.RoomPublic, CreatedAt: at(1), LastSeq: 5}, {Name: parley.DefaultRoom, Kind: parley.RoomPublic, CreatedAt: t0, LastSeq: 3},
		{Name: secret, Kind: parley.RoomPrivate, Title: "Plans", Topic: "next", Description: "All of it.", Owner: "bo", CreatedAt: t0}}
	if diff := gocmp.Diff(wantRooms, gotRooms); diff != "" {
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
		if diff := gocmp.Diff(want, got); diff != "" {
			t.Errorf("Entries(%q) after ImportEntries (-want +got):\n%s", room, diff)
		}
	}
	if got, err := db.Members(ctx); err != nil || !gocmp.Equal(got, members) {
		t.Errorf("Members() = %v, %v; want %v", got, err, members)
	}
	access := []parley.RoomMember{{Room: secret, Name: "bo", Role: parley.RoleOwner}, {Room: secret, Name: "Ana", Role: parley.RoleMember}}
	if err := db.ImportRoomMembers(ctx, access); err != nil {
		t.Fatalf("ImportRoomMembers() = %v", err)
	}
	if got, err := db.RoomMembers(ctx, secret); err != nil || !gocmp.Equal(got, []parley.RoomMember{access[1], access[0]}) {
		t.Errorf("RoomMembers(private) after ImportRoomMembers = %v, %v; want %v", got, err, access)
	}
	if err := db.ImportRoomMembers(ctx, []parley.RoomMember{{Room: "nowhere", Name: "x", Role: parley.RoleMember}}); parley.KindOf(err) != parley.NotFound {
		t.Errorf("ImportRoomMembers(unknown room) = %v, want NotFound", err)
	}
	gotSessions, err := db.Sessions(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := gocmp.Diff(sessions, gotSessions, gocmp.Transformer("byHash", func(s []parley.StoredSession) map[string]parley.StoredSession {
		m := map[string]parley.StoredSession{}
		for _, x := range s {
			m[x.TokenHash] = x
		}
		return m
	})); diff != "" {
		t.Errorf("Sessions() after ImportSessions (-want +got):\n%s", diff)
	}

	if got, err := db.StoredReadMarkers(ctx, parley.StoredReadMarker{}, 10); err != nil || !gocmp.Equal(got, markers) {
		t.Errorf("StoredReadMarkers() after ImportReadMarkers = %v, %v; want %v", got, err, markers)
	}

	// The store goes on from what it imported.
	if seq, err := db.ReadMarker(ctx, parley.DefaultRoom, "ana"); err != nil || seq != 2 {
		t.Errorf("ReadMarker(general, ana) after import = %d, %v; want 2", seq, err)
	}
	if s, err := db.Session(ctx, token); err != nil || s.Nick != "Ana" {
		t.Errorf("Session(imported token) = %+v, %v; want Ana's", s, err)
	}
	if s, err := db.Session(ctx, botToken); err != nil || s.Nick != "bo" || s.Kind != parley.SessionToken {
		t.Errorf("Session(imported bot token) = %+v, %v; want bo's token", s, err)
	}
	if _, err := db.Session(ctx, "gone"); parley.KindOf(err) != parley.Unauthenticated {
		t.Errorf("Session(expired imported token) = %v, want Unauthenticated", err)
	}
	if _, err := db.CreateSession(ctx, "ana", time.Hour); parley.CodeOf(err) != parley.CodeNicknameTaken {
		t.Errorf("CreateSession(\"ana\") = %v, want nickname_taken: the imported session holds Ana", err)
	}
	retry := parley.Entry{Room: parley.DefaultRoom, Kind: parley.KindMessage, From: "ana", ClientID: "c-1", Text: "hello again"}
	if dup, err := db.Append(ctx, &retry); err != nil || !dup || retry.Seq != 2 || retry.Text != "hello" || !retry.At.Equal(at(3)) {
		t.Errorf("Append(retry of imported c-1) = %v, %v, %+v; want dup of entry 2", dup, err, retry)
	}
	next := parley.Entry{Room: parley.DefaultRoom, Kind: parley.KindMessage, From: "ana", ClientID: "c-2", Text: "back"}
	if _, err := db.Append(ctx, &next); err != nil || next.Seq != 4 {
		t.Errorf("Append() after import = seq %d, %v; want 4", next.Seq, err)
	}
	if e, err := db.Join(ctx, "dev", "bob"); err != nil || e != nil {
		t.Errorf("Join(dev, bob) = %+v, %v; want nil, nil: bob's membership was imported", e, err)
	}
	if e, err := db.Join(ctx, "dev", "cy"); err != nil || e == nil || e.Seq != 6 {
		t.Errorf("Join(dev, cy) = %+v, %v; want entry 6", e, err)
	}
	// The imported deletion stands: the message cannot be amended again.
	edit := parley.Entry{Room: "dev", Kind: parley.KindEdit, From: "bob", Target: 3, ClientID: "b-5", Text: "back"}
	if _, err := db.Amend(ctx, &edit, false); parley.CodeOf(err) != parley.CodeAlreadyDeleted {
		t.Errorf("Amend(edit of an imported deleted message) = %v, want already_deleted", err)
	}
}

// testImportRefuses: an import that cannot be made stores nothing at all.
func testImportRefuses(t *testing.T, open Open) {
	db := open(t, time.Now)
	ctx := t.Context()
	first := parley.Entry{Room: parley.DefaultRoom, Kind: parley.KindMessage, From: "ana", ClientID: "c-1", Text: "hello"}
	if _, err := db.Append(ctx, &first); err != nil {
		t.Fatal(err)
	}
	if _, err := db.EnsureRoom(ctx, "empty"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Join(ctx, "empty", "ana"); err != nil { // entry 1 of empty
		t.Fatal(err)
	}
	if _, err := db.CreateSession(ctx, "ana", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkRead(ctx, parley.DefaultRoom, "ana", 1); err != nil {
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
			e.Kind = "poll"
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
		{"marker of unknown room", func() error {
			return db.ImportReadMarkers(ctx, []parley.StoredReadMarker{{NickKey: "bob", Room: "empty", Seq: 1}, {NickKey: "bob", Room: "nowhere", Seq: 1}})
		}, parley.NotFound},
		{"marker beyond the log", func() error {
			return db.ImportReadMarkers(ctx, []parley.StoredReadMarker{{NickKey: "bob", Room: "empty", Seq: 1}, {NickKey: "bob", Room: parley.DefaultRoom, Seq: 2}})
		}, parley.Invalid},
		{"marker of nothing", func() error {
			return db.ImportReadMarkers(ctx, []parley.StoredReadMarker{{NickKey: "bob", Room: "empty", Seq: 0}})
		}, parley.Invalid},
		{"marker of nobody", func() error {
			return db.ImportReadMarkers(ctx, []parley.StoredReadMarker{{Room: "empty", Seq: 1}})
		}, parley.Invalid},
		{"marker stored already", func() error {
			return db.ImportReadMarkers(ctx, []parley.StoredReadMarker{{NickKey: "bob", Room: "empty", Seq: 1}, {NickKey: parley.NickKey("ana"), Room: parley.DefaultRoom, Seq: 1}})
		}, parley.Internal},
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
			markers, _ := db.StoredReadMarkers(ctx, parley.StoredReadMarker{}, 10)
			if len(rooms) != 2 || rooms[0].LastSeq != 1 || rooms[1].LastSeq != 1 || len(members) != 1 || len(sessions) != 1 || len(markers) != 1 {
				t.Errorf("after a failed import: rooms %v, members %v, sessions %v, read markers %v; want what was there before", rooms, members, sessions, markers)
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
		"Accounts":       func() error { _, err := db.Accounts(ctx, "", 1); return err },
		"ImportAccounts": func() error { return db.ImportAccounts(ctx, nil) },
		"StoredReadMarkers": func() error {
			_, err := db.StoredReadMarkers(ctx, parley.StoredReadMarker{}, 1)
			return err
		},
		"ImportReadMarkers": func() error { return db.ImportReadMarkers(ctx, nil) },
	} {
		if err := call(); err == nil {
			t.Errorf("%s() after Close = nil, want an error", name)
		}
	}
}

// testReadMarkers lists read markers as stored, a page at a time, by
// NickKey, then room name.
func testReadMarkers(t *testing.T, open Open) {
	db := open(t, time.Now)
	ctx := t.Context()
	var want []parley.StoredReadMarker
	for _, room := range []string{"b", "a", parley.DefaultRoom} {
		if _, err := db.EnsureRoom(ctx, room); err != nil {
			t.Fatal(err)
		}
		e := parley.Entry{Room: room, Kind: parley.KindMessage, From: "cy", ClientID: "c-1", Text: "hello"}
		if _, err := db.Append(ctx, &e); err != nil {
			t.Fatal(err)
		}
		for _, nick := range []string{"Ana", "bob"} {
			if err := db.MarkRead(ctx, room, nick, e.Seq); err != nil {
				t.Fatal(err)
			}
			want = append(want, parley.StoredReadMarker{NickKey: parley.NickKey(nick), Room: room, Seq: e.Seq})
		}
	}
	slices.SortFunc(want, func(a, b parley.StoredReadMarker) int {
		return cmp.Compare(a.NickKey+"\x00"+a.Room, b.NickKey+"\x00"+b.Room)
	})
	var got []parley.StoredReadMarker
	var after parley.StoredReadMarker
	for pages := 0; ; pages++ {
		page, err := db.StoredReadMarkers(ctx, after, 4)
		if err != nil {
			t.Fatalf("StoredReadMarkers(%v, 4) = %v", after, err)
		}
		if len(page) == 0 {
			if pages != 2 {
				t.Errorf("StoredReadMarkers() of 6 markers by 4 = %d pages before an empty one, want 2", pages)
			}
			break
		}
		got = append(got, page...)
		after = page[len(page)-1]
	}
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Errorf("StoredReadMarkers(), page by page (-want +got):\n%s", diff)
	}
	if _, err := db.StoredReadMarkers(ctx, after, 0); parley.KindOf(err) != parley.Invalid {
		t.Errorf("StoredReadMarkers(limit 0) = %v, want Invalid", err)
	}
}
