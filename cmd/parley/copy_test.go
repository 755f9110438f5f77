package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/pgtest"
	"github.com/parley-chat/parley/postgres"
	"github.com/parley-chat/parley/sqlite"
)

// laptop is what fillLaptop stored that a test must know beyond what the
// store lists.
type laptop struct {
	anaToken, bobToken string // live sessions of Ana and bob
	oldToken           string // an expired session's
	hello              parley.Entry
}

// fillLaptop fills the SQLite database at path through the real store, as
// people chatting on a laptop install would: rooms, joins and leaves,
// messages (devMessages of them in dev, sent at once from several
// clients), a retried send, sessions and an expired one.
func fillLaptop(t *testing.T, path string, devMessages int) laptop {
	t.Helper()
	ctx := t.Context()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, room := range []string{"dev", "café ☕", "quiet"} {
		_, err := db.EnsureRoom(ctx, room)
		must(err)
	}
	join := func(room, nick string) {
		t.Helper()
		_, err := db.Join(ctx, room, nick)
		must(err)
	}
	send := func(room, from, clientID, text string) (parley.Entry, bool) {
		t.Helper()
		e := parley.Entry{Room: room, Kind: parley.KindMessage, From: from, ClientID: clientID, Text: text}
		dup, err := db.Append(ctx, &e)
		must(err)
		return e, dup
	}
	var l laptop
	join(parley.DefaultRoom, "Ana")
	join(parley.DefaultRoom, "bob")
	l.hello, _ = send(parley.DefaultRoom, "Ana", "c-1", "hello")
	send(parley.DefaultRoom, "bob", "c-1", "hi Ana") // the same client id, another sender
	if retry, dup := send(parley.DefaultRoom, "Ana", "c-1", "hello"); !dup || retry.Seq != l.hello.Seq {
		t.Fatalf("retried Append() = dup %v, seq %d; want a duplicate of %d", dup, retry.Seq, l.hello.Seq)
	}
	_, err = db.Leave(ctx, parley.DefaultRoom, "bob")
	must(err)
	join("dev", "Ana")
	join("café ☕", "bob")
	send("café ☕", "bob", "b-1", "un café ?\nwith a second line, <b>tags</b> & \"quotes\"")

	// Sent at once, committed together, as under load.
	var wg sync.WaitGroup
	const senders = 8
	for s := range senders {
		wg.Go(func() {
			for i := s; i < devMessages; i += senders {
				e := parley.Entry{Room: "dev", Kind: parley.KindMessage, From: fmt.Sprintf("user%d", s), ClientID: fmt.Sprintf("m-%d", i), Text: fmt.Sprintf("message %d", i)}
				if _, err := db.Append(ctx, &e); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	must(db.MarkRead(ctx, parley.DefaultRoom, "Ana", l.hello.Seq))
	must(db.MarkRead(ctx, "café ☕", "bob", 1))
	must(db.MarkRead(ctx, "dev", "bob", 1))

	l.anaToken, err = db.CreateSession(ctx, "Ana", time.Hour)
	must(err)
	l.bobToken, err = db.CreateSession(ctx, "bob", 24*time.Hour)
	must(err)
	// Last: the next session created would sweep it away.
	l.oldToken, err = db.CreateSession(ctx, "old", -time.Minute)
	must(err)
	must(db.Close())
	return l
}

// contents is everything a store holds, as a copy sees it.
type contents struct {
	Rooms    []*parley.Room
	Entries  map[string][]*parley.Entry
	Members  []parley.Member
	Markers  []parley.StoredReadMarker
	Sessions []parley.StoredSession // by token hash
}

func contentsOf(t *testing.T, s copySource) contents {
	t.Helper()
	ctx := t.Context()
	var c contents
	var err error
	if c.Rooms, err = s.Rooms(ctx, "", parley.MaxPageSize); err != nil {
		t.Fatal(err)
	}
	c.Entries = map[string][]*parley.Entry{}
	for _, r := range c.Rooms {
		err := eachEntryPage(ctx, s, r.Name, func(page []*parley.Entry) error {
			c.Entries[r.Name] = append(c.Entries[r.Name], page...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if c.Members, err = s.Members(ctx); err != nil {
		t.Fatal(err)
	}
	err = eachSessionPage(ctx, s, 2, func(page []parley.StoredSession) error {
		c.Sessions = append(c.Sessions, page...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = eachMarkerPage(ctx, s, 2, func(page []parley.StoredReadMarker) error {
		c.Markers = append(c.Markers, page...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(c.Sessions, func(a, b parley.StoredSession) int { return strings.Compare(a.TokenHash, b.TokenHash) })
	return c
}

// mustOpenSQLite opens the SQLite store at path until the test ends.
func mustOpenSQLite(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// mustOpenPostgres opens the PostgreSQL store at url until the test ends.
func mustOpenPostgres(t *testing.T, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// newPostgres returns the URL of a new PostgreSQL database, with a
// password that must never be printed.
func newPostgres(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	// The test server trusts its socket's clients, and ignores passwords.
	u.User = url.UserPassword(u.User.Username(), "hunter2")
	return u.String()
}

// TestMigrateCopy copies a laptop's SQLite database to PostgreSQL, as
// `parley migrate copy` does, and checks through the PostgreSQL store that
// everything is there and that the chat goes on from it; then copies it
// back to SQLite.
func TestMigrateCopy(t *testing.T) {
	dir := inDir(t, nil)
	ctx := t.Context()
	from := filepath.Join(dir, "laptop.db")
	const devMessages = 230 // more than a page of Entries
	l := fillLaptop(t, from, devMessages)
	source := mustOpenSQLite(t, from)
	want := contentsOf(t, source)
	anaBefore, err := source.Session(ctx, l.anaToken)
	if err != nil {
		t.Fatal(err)
	}
	source.Close()
	if n := len(want.Entries["dev"]); n != devMessages+1 || len(want.Rooms) != 4 || len(want.Members) != 3 || len(want.Sessions) != 3 || len(want.Markers) != 3 {
		t.Fatalf("the laptop holds %d rooms, %d entries in dev, %d members, %d sessions, %d read markers; want 4, %d, 3, 3, 3",
			len(want.Rooms), n, len(want.Members), len(want.Sessions), len(want.Markers), devMessages+1)
	}

	to := newPostgres(t)
	var stdout, stderr bytes.Buffer
	args := []string{"migrate", "copy", "--from", from, "--to", to, "--batch", "7"}
	if err := run(ctx, args, environment(nil), nil, &stdout, &stderr); err != nil {
		t.Fatalf("run(%q) = %v", args, err)
	}
	out := stdout.String() + stderr.String()
	for _, line := range []string{"rooms     4", fmt.Sprintf("entries   %d", devMessages+1+5+2), "members   3", "markers   3", "sessions  3", "verified", ":xxxxx@"} {
		if !strings.Contains(out, line) {
			t.Errorf("run(migrate copy) printed %q, want a line with %q", out, line)
		}
	}
	if strings.Contains(out, "hunter2") {
		t.Errorf("run(migrate copy) printed the database's password:\n%s", out)
	}

	// Everything is there: rooms with their creation times and last
	// numbers, every field of every entry, members, read markers, sessions
	// as stored.
	pg := mustOpenPostgres(t, to)
	got := contentsOf(t, pg)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PostgreSQL after the copy differs from the laptop's SQLite (-want +got):\n%s", diff)
	}
	for _, r := range got.Rooms {
		if entries := got.Entries[r.Name]; len(entries) > 0 && entries[len(entries)-1].Seq != r.LastSeq {
			t.Errorf("room %q: LastSeq %d, last entry %d; want them equal", r.Name, r.LastSeq, entries[len(entries)-1].Seq)
		}
	}

	// Back to SQLite, for a developer: the same again.
	back := filepath.Join(dir, "back.db")
	args = []string{"migrate", "copy", "-from", to, "-to", back}
	if err := run(ctx, args, environment(nil), nil, io.Discard, io.Discard); err != nil {
		t.Fatalf("run(migrate copy -from postgres -to %s) = %v", back, err)
	}
	if diff := cmp.Diff(want, contentsOf(t, mustOpenSQLite(t, back))); diff != "" {
		t.Errorf("SQLite copied back from PostgreSQL differs from the laptop's (-want +got):\n%s", diff)
	}

	// People stay signed in, and keep their nicknames; the expired
	// session stays expired.
	if s, err := pg.Session(ctx, l.anaToken); err != nil || !cmp.Equal(s, anaBefore) {
		t.Errorf("Session(Ana's token) after the copy = %+v, %v; want %+v", s, err, anaBefore)
	}
	if s, err := pg.Session(ctx, l.bobToken); err != nil || s.Nick != "bob" {
		t.Errorf("Session(bob's token) after the copy = %+v, %v; want bob's", s, err)
	}
	if _, err := pg.Session(ctx, l.oldToken); parley.KindOf(err) != parley.Unauthenticated {
		t.Errorf("Session(expired token) after the copy = %v, want Unauthenticated", err)
	}
	if _, err := pg.CreateSession(ctx, "ana", time.Hour); parley.CodeOf(err) != parley.CodeNicknameTaken {
		t.Errorf("CreateSession(%q) after the copy = %v, want nickname_taken", "ana", err)
	}

	// A retry of a send from before the copy is recognised, with its
	// original number; the next send gets the number after the last.
	retry := parley.Entry{Room: parley.DefaultRoom, Kind: parley.KindMessage, From: "Ana", ClientID: "c-1", Text: "hello?"}
	if dup, err := pg.Append(ctx, &retry); err != nil || !dup || retry.Seq != l.hello.Seq || retry.Text != "hello" || !retry.At.Equal(l.hello.At) {
		t.Errorf("Append(retry of c-1) after the copy = %v, %v, %+v; want a duplicate of %+v", dup, err, retry, l.hello)
	}
	for _, r := range want.Rooms {
		e := parley.Entry{Room: r.Name, Kind: parley.KindMessage, From: "Ana", ClientID: "after-copy", Text: "still here"}
		if dup, err := pg.Append(ctx, &e); err != nil || dup || e.Seq != r.LastSeq+1 {
			t.Errorf("Append() to %q after the copy = %v, %v, seq %d; want a new entry %d", r.Name, dup, err, e.Seq, r.LastSeq+1)
		}
	}
	// A client that had seen entry 200 of dev resumes from it.
	page, err := pg.Entries(ctx, "dev", parley.Page{After: 200, Limit: parley.MaxPageSize, Oldest: true})
	if err != nil || len(page) != devMessages+1-200+1 || page[0].Seq != 201 || !cmp.Equal(page[0], want.Entries["dev"][200]) {
		t.Errorf("Entries(dev, since 200) after the copy = %d entries from %+v, %v; want entries 201 to %d", len(page), page[0], err, devMessages+2)
	}
	if e, err := pg.Join(ctx, "dev", "Ana"); err != nil || e != nil {
		t.Errorf("Join(dev, Ana) after the copy = %+v, %v; want nil, nil: Ana is a member", e, err)
	}
	if e, err := pg.Join(ctx, parley.DefaultRoom, "bob"); err != nil || e == nil {
		t.Errorf("Join(general, bob) after the copy = %+v, %v; want a join: bob had left", e, err)
	}

	// PostgreSQL's times, to the microsecond, go to SQLite to the
	// millisecond, which the verification allows.
	again := filepath.Join(dir, "again.db")
	if err := run(ctx, []string{"migrate", "copy", "-from", to, "-to", again}, environment(nil), nil, io.Discard, io.Discard); err != nil {
		t.Fatalf("run(migrate copy) of PostgreSQL's own appends = %v", err)
	}
}

// TestMigrateCopyRefuses: a copy stops before copying anything when it is
// given a source that does not exist, or a target that is not empty, and
// says why, without the password.
func TestMigrateCopyRefuses(t *testing.T) {
	dir := inDir(t, nil)
	ctx := t.Context()
	source := filepath.Join(dir, "laptop.db")
	fillLaptop(t, source, 3)
	missing := filepath.Join(dir, "missing.db")

	// Targets that hold something, and one that holds an empty general.
	full := filepath.Join(dir, "full.db")
	fillLaptop(t, full, 5)
	busy := newPostgres(t)
	pg := mustOpenPostgres(t, busy)
	for _, e := range []parley.Entry{{Room: parley.DefaultRoom, From: "ana", ClientID: "1", Text: "a"}, {Room: parley.DefaultRoom, From: "ana", ClientID: "2", Text: "b"}} {
		e.Kind = parley.KindMessage
		if _, err := pg.Append(ctx, &e); err != nil {
			t.Fatal(err)
		}
	}
	sessionOnly := filepath.Join(dir, "session.db")
	s := mustOpenSQLite(t, sessionOnly)
	if _, err := s.CreateSession(ctx, "ana", time.Hour); err != nil {
		t.Fatal(err)
	}
	s.Close()

	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"no target", []string{"-from", source}, []string{"-from and -to are required"}},
		{"no source", []string{"-to", missing}, []string{"-from and -to are required"}},
		{"the same", []string{"-from", source, "-to", source}, []string{"the same database"}},
		{"bad batch", []string{"-from", source, "-to", missing, "-batch", "0"}, []string{"-batch"}},
		{"unknown flag", []string{"-from", source, "-to", missing, "-database", "x"}, []string{"-database"}},
		{"argument", []string{"-from", source, "-to", missing, "now"}, []string{`"now"`}},
		{"missing source", []string{"-from", missing, "-to", filepath.Join(dir, "new.db")}, []string{"source", "missing.db", "does not exist"}},
		{"full target", []string{"-from", source, "-to", full}, []string{"full.db", "not empty", `3 rooms besides "general" ("café ☕", "dev", "quiet")`, "13 log entries", "3 memberships", "3 sessions"}},
		{"busy target", []string{"-from", source, "-to", busy}, []string{":xxxxx@", "not empty", "it holds 2 log entries; copy only"}},
		{"session only", []string{"-from", source, "-to", sessionOnly}, []string{"not empty", "it holds 1 session;"}},
		{"target unreachable", []string{"-from", source, "-to", "postgres://parley:hunter2@127.0.0.1:1/parley?connect_timeout=5"}, []string{"target", ":xxxxx@"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout bytes.Buffer
			args := append([]string{"migrate", "copy"}, tt.args...)
			err := run(ctx, args, environment(nil), nil, &stdout, io.Discard)
			if err == nil {
				t.Fatalf("run(%q) = nil, want an error", args)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("run(%q) = %q, want an error containing %q", args, err, want)
				}
			}
			if strings.Contains(err.Error()+stdout.String(), "hunter2") {
				t.Errorf("run(%q) = %q, printing %q; want neither to show the password", args, err, stdout.String())
			}
		})
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after copies from and to %s: Stat() = %v, want it not created", missing, err)
	}
	if got := contentsOf(t, pg); len(got.Rooms) != 1 || got.Rooms[0].LastSeq != 2 || len(got.Sessions) != 0 {
		t.Errorf("the busy target after a refused copy holds %+v, want what it held", got)
	}

	for _, args := range [][]string{{"migrate", "copy", "-help"}, {"help", "migrate", "copy"}} {
		var stdout bytes.Buffer
		if err := run(ctx, args, environment(nil), nil, &stdout, io.Discard); err != nil || !strings.Contains(stdout.String(), "Usage: parley migrate copy -from") {
			t.Errorf("run(%q) = %v, printing %q; want the help of migrate copy", args, err, stdout.String())
		}
	}
}

// TestMigrateCopyVerifyFails changes the target between the copy and its
// verification, and checks that the command fails and says where.
func TestMigrateCopyVerifyFails(t *testing.T) {
	dir := inDir(t, nil)
	ctx := t.Context()
	from := filepath.Join(dir, "laptop.db")
	fillLaptop(t, from, 3)
	to := newPostgres(t)
	tamper := func(ctx context.Context) error {
		conn, err := pgx.Connect(ctx, to)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, `UPDATE entries SET text = 'tampered' WHERE seq = 3 AND room_id = (SELECT id FROM rooms WHERE name = 'general')`)
		return err
	}
	var stdout bytes.Buffer
	err := migrateCopy(ctx, []string{"-from", from, "-to", to}, &stdout, copyOptions{beforeVerify: tamper})
	if err == nil || !strings.Contains(err.Error(), `room "general": the logs differ`) {
		t.Errorf("migrateCopy() with a target changed before verifying = %v, want an error about general's log", err)
	}
	if strings.Contains(stdout.String(), "verified") {
		t.Errorf("migrateCopy() printed %q, want no \"verified\"", stdout.String())
	}
}

// TestMigrateCopyFailsMidway: PostgreSQL cannot hold a text with U+0000,
// which SQLite can; the copy stops at that entry's transaction and says
// that the target holds part of the copy.
func TestMigrateCopyFailsMidway(t *testing.T) {
	dir := inDir(t, nil)
	ctx := t.Context()
	from := filepath.Join(dir, "laptop.db")
	fillLaptop(t, from, 3)
	db := mustOpenSQLite(t, from)
	e := parley.Entry{Room: "dev", Kind: parley.KindMessage, From: "Ana", ClientID: "nul", Text: "a\x00b"}
	if _, err := db.Append(ctx, &e); err != nil {
		t.Fatal(err)
	}
	db.Close()
	to := newPostgres(t)
	err := run(ctx, []string{"migrate", "copy", "-from", from, "-to", to, "-batch", "2"}, environment(nil), nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `copy entries 5 of "dev" to 1 of "general"`) ||
		!strings.Contains(err.Error(), "the target may hold part of the copy") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("run(migrate copy) of a text PostgreSQL cannot hold = %v, want an error that names the entries and says the target holds part of the copy", err)
	}
	if got := contentsOf(t, mustOpenPostgres(t, to)); len(got.Rooms) != 4 || len(got.Entries["dev"]) == 0 {
		t.Errorf("the target after a failed copy holds %+v, want the rooms and the entries before the one that failed", got)
	}
}

// TestVerify compares a copy with its source after changing one thing of
// the copy at a time, and checks that verify names it.
func TestVerify(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	from := filepath.Join(dir, "source.db")
	fillLaptop(t, from, 3)
	src := mustOpenSQLite(t, from)

	tests := []struct {
		name   string
		change string
		want   []string // in the error; none: no error
	}{
		{"no change", ``, nil},
		{"text", `UPDATE entries SET text = 'x' WHERE seq = 3 AND room_id = (SELECT id FROM rooms WHERE name = 'general')`, []string{`room "general": the logs differ (SHA-256 `}},
		{"time", `UPDATE entries SET at = at + 1 WHERE seq = 1`, []string{"the logs differ"}},
		{"client id", `UPDATE entries SET client_id = 'c-2' WHERE client_id = 'c-1' AND sender = 'bob'`, []string{"the logs differ"}},
		{"missing entry", `DELETE FROM entries WHERE seq = 5 AND room_id = (SELECT id FROM rooms WHERE name = 'general')`,
			[]string{`room "general" of the target: its last sequence number is 5, but its last entry's is 4`, `room "general": 5 entries in the source, 4 in the target`}},
		{"last seq", `UPDATE rooms SET last_seq = last_seq + 1 WHERE name = 'dev'`, []string{`room "dev" of the target: its last sequence number is 5`, `room "dev": last sequence number 4 in the source, 5 in the target`}},
		{"created", `UPDATE rooms SET created_at = created_at + 1000 WHERE name = 'quiet'`, []string{`room "quiet": created at`}},
		{"extra room", `INSERT INTO rooms (name, created_at) VALUES ('extra', 0)`, []string{`room "extra": in the target only`}},
		{"missing room", `DELETE FROM rooms WHERE name = 'quiet'`, []string{`room "quiet": missing from the target`}},
		{"member", `UPDATE members SET nick = 'eve' WHERE nick = 'bob'`, []string{"memberships: as many in both, but they differ"}},
		{"read marker", `UPDATE read_markers SET seq = seq - 1 WHERE seq > 1`, []string{"read markers: as many in both, but they differ"}},
		{"missing read marker", `DELETE FROM read_markers WHERE seq = 1`, []string{"3 read markers in the source, 1 in the target"}},
		{"session", `DELETE FROM sessions WHERE nick = 'bob'`, []string{"3 sessions in the source, 2 in the target"}},
		{"session time", `UPDATE sessions SET expires_at = expires_at + 1 WHERE nick = 'bob'`, []string{"sessions: as many in both, but they differ"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "copy.db")
			dst := mustOpenSQLite(t, path)
			if err := copyStores(ctx, src, dst, 2); err != nil {
				t.Fatalf("copyStores() = %v", err)
			}
			if tt.change != "" {
				conn, err := sql.Open("sqlite", path)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				if _, err := conn.ExecContext(ctx, tt.change); err != nil {
					t.Fatalf("%s: %v", tt.change, err)
				}
			}
			d, err := verify(ctx, src, dst)
			if len(tt.want) == 0 {
				if err != nil || len(d.rooms) != 4 || d.members.n != 3 || d.sessions.n != 3 {
					t.Errorf("verify() of an unchanged copy = %+v, %v; want 4 rooms, 3 members, 3 sessions and no error", d, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("verify() after %s = nil, want an error", tt.change)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("verify() after %s = %q, want an error containing %q", tt.change, err, want)
				}
			}
		})
	}
}

// TestVerifyManyDifferences: the list of differences stops at ten.
func TestVerifyManyDifferences(t *testing.T) {
	ctx := t.Context()
	src := mustOpenSQLite(t, filepath.Join(t.TempDir(), "source.db"))
	for i := range 15 {
		if _, err := src.EnsureRoom(ctx, fmt.Sprintf("room %02d", i)); err != nil {
			t.Fatal(err)
		}
	}
	dst := mustOpenSQLite(t, filepath.Join(t.TempDir(), "target.db"))
	// 15 rooms missing, and general created at another time.
	_, err := verify(ctx, src, dst)
	if err == nil || strings.Count(err.Error(), "\n  ") != 11 || !strings.Contains(err.Error(), "\n  and 6 more differences") {
		t.Errorf("verify() of 16 differences = %v, want 10 of them and 6 more", err)
	}
}

// BenchmarkMigrateCopy copies and verifies a store of 50,000 log entries
// (one room of 40,000, a hundred of 100), a hundred members and a thousand
// sessions, from SQLite to PostgreSQL and back.
func BenchmarkMigrateCopy(b *testing.B) {
	ctx := b.Context()
	dir := b.TempDir()
	laptop := filepath.Join(dir, "laptop.db")
	src, err := sqlite.Open(ctx, laptop)
	if err != nil {
		b.Fatal(err)
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rooms := []*parley.Room{{Name: "big", CreatedAt: at}}
	for i := range 100 {
		rooms = append(rooms, &parley.Room{Name: fmt.Sprintf("room %03d", i), CreatedAt: at})
	}
	if err := src.ImportRooms(ctx, rooms); err != nil {
		b.Fatal(err)
	}
	text := strings.Repeat("a message of a hundred bytes. ", 4)[:100]
	var entries []*parley.Entry
	var total int64
	add := func(room string, n int) {
		for seq := range int64(n) {
			entries = append(entries, &parley.Entry{Room: room, Seq: seq + 1, Kind: parley.KindMessage,
				From: fmt.Sprintf("user%d", seq%50), ClientID: fmt.Sprintf("c-%d", seq), Text: text, At: at.Add(time.Duration(seq) * time.Second)})
			if len(entries) == 1000 {
				if err := src.ImportEntries(ctx, entries); err != nil {
					b.Fatal(err)
				}
				entries = entries[:0]
			}
		}
		total += int64(n)
	}
	add("big", 40000)
	for _, r := range rooms[1:] {
		add(r.Name, 100)
	}
	var members []parley.Member
	for i := range 100 {
		members = append(members, parley.Member{Room: rooms[i].Name, Nick: "ana"})
	}
	var sessions []parley.StoredSession
	for i := range 1000 {
		sessions = append(sessions, parley.StoredSession{TokenHash: parley.HashToken(fmt.Sprint(i)),
			Session: parley.Session{Nick: fmt.Sprintf("user%d", i), CreatedAt: at, ExpiresAt: at.Add(time.Hour)}})
	}
	if err := errors.Join(src.ImportEntries(ctx, entries), src.ImportMembers(ctx, members), src.ImportSessions(ctx, sessions), src.Close()); err != nil {
		b.Fatal(err)
	}

	// The time up to the verification, of all runs.
	var copying time.Duration
	timed := func() copyOptions {
		start := time.Now()
		return copyOptions{beforeVerify: func(context.Context) error {
			copying += time.Since(start)
			return nil
		}}
	}
	report := func(b *testing.B) {
		b.ReportMetric(float64(total)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		b.ReportMetric(copying.Seconds()/float64(b.N), "s-to-verify/op")
		copying = 0
	}
	var pg string
	parent := b // whose databases live until both directions are done
	b.Run("sqlite-to-postgres", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			pg = pgtest.NewDatabase(parent)
			b.StartTimer()
			if err := migrateCopy(ctx, []string{"-from", laptop, "-to", pg}, io.Discard, timed()); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})
	b.Run("postgres-to-sqlite", func(b *testing.B) {
		for b.Loop() {
			back := filepath.Join(b.TempDir(), "back.db")
			if err := migrateCopy(ctx, []string{"-from", pg, "-to", back}, io.Discard, timed()); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})
}
