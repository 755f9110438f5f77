// Package storetest is the conformance suite for [parley.Store]. Every store
// (packages sqlite and postgres) runs it from its own tests, in the
// manner of testing/slogtest, so that the stores agree on every rule the
// rest of Parley relies on: gapless sequence numbers under concurrency,
// idempotent sends, membership entries, history pages, sessions, and
// durability across Close.
//
// A store's test calls [Run] with a function that prepares a new database:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.OpenFunc {
//			path := filepath.Join(t.TempDir(), "parley.db")
//			return func(ctx context.Context) (parley.Store, error) {
//				return sqlite.Open(ctx, path)
//			}
//		})
//	}
package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// OpenFunc opens one database as a parley.Store.
type OpenFunc func(ctx context.Context) (parley.Store, error)

// Run runs the conformance suite as parallel subtests of t.
//
// For each subtest Run calls newDB, which must prepare a new database of its
// own and return the function that opens it (registering with t.Cleanup
// whatever must be removed afterwards). The first store opened must be
// empty but for the room parley.DefaultRoom. Run may open the database
// again, but only after closing the store it opened before: each call must
// open the same data, which is how the suite checks that nothing
// acknowledged is lost. Run closes every store it opens.
//
// Beyond what the parley.Store documentation says, the suite holds stores
// to these rules, which the rest of Parley relies on:
//   - Stores stamp rooms and entries with the real time, in UTC.
//   - Rooms sorts names byte-wise, as Go compares strings.
//   - Join and Leave return Invalid for a bad nickname and NotFound for an
//     unknown room.
//   - Every method returns an error after Close.
//   - ReadMarkers returns an empty slice, not nil, when there are none.
func Run(t *testing.T, newDB func(t *testing.T) OpenFunc) {
	for _, tt := range checks {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, newDB(t))
		})
	}
}

// A check is one subtest of Run.
type check struct {
	name string
	run  func(t testing.TB, open OpenFunc)
}

// checks are the subtests of Run.
var checks = []check{
	{"DefaultRoom", testDefaultRoom},
	{"EnsureRoom", testEnsureRoom},
	{"EnsureRoomConcurrent", testEnsureRoomConcurrent},
	{"EnsureRoomInvalid", testEnsureRoomInvalid},
	{"RoomNotFound", testRoomNotFound},
	{"Rooms", testRooms},
	{"RoomsPaged", testRoomsPaged},
	{"Append", testAppend},
	{"AppendConcurrent", testAppendConcurrent},
	{"AppendDuplicate", testAppendDuplicate},
	{"AppendDuplicateConcurrent", testAppendDuplicateConcurrent},
	{"AppendUnknownRoom", testAppendUnknownRoom},
	{"AppendInvalid", testAppendInvalid},
	{"AppendCancelled", testAppendCancelled},
	{"JoinLeave", testJoinLeave},
	{"JoinLeaveErrors", testJoinLeaveErrors},
	{"AddRemoveMember", testAddRemoveMember},
	{"JoinConcurrent", testJoinConcurrent},
	{"Members", testMembers},
	{"Entries", testEntries},
	{"EntriesEmptyRoom", testEntriesEmptyRoom},
	{"EntriesErrors", testEntriesErrors},
	{"Ping", testPing},
	{"Reopen", testReopen},
	{"Closed", testClosed},
	{"CloseWhileAppending", testCloseWhileAppending},
	{"Session", testSession},
	{"SessionNicknameTaken", testSessionNicknameTaken},
	{"SessionEnd", testSessionEnd},
	{"SessionExpiry", testSessionExpiry},
	{"SessionConcurrent", testSessionConcurrent},
	{"SessionReopen", testSessionReopen},
	{"Account", testAccount},
	{"AccountNamespace", testAccountNamespace},
	{"AccountSessions", testAccountSessions},
	{"AccountUpdate", testAccountUpdate},
	{"AccountConcurrent", testAccountConcurrent},
	{"AccountReopen", testAccountReopen},
	{"PrivateRoom", testPrivateRoom},
	{"DirectRoom", testDirectRoom},
	{"Amend", testAmend},
	{"AmendErrors", testAmendErrors},
	{"AmendDuplicate", testAmendDuplicate},
	{"AmendConcurrent", testAmendConcurrent},
	{"ReadMarkers", testReadMarkers},
	{"ReadMarkerErrors", testReadMarkerErrors},
	{"ReadMarkerConcurrent", testReadMarkerConcurrent},
	{"Archive", testArchive},
	{"DeleteRoom", testDeleteRoom},
	{"DeleteRoomConcurrent", testDeleteRoomConcurrent},
}

func testDefaultRoom(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	r, err := s.Room(t.Context(), parley.DefaultRoom)
	if err != nil {
		t.Fatalf("Room(%q) = %v, want the default room", parley.DefaultRoom, err)
	}
	if r.Name != parley.DefaultRoom || r.LastSeq != 0 {
		t.Errorf("Room(%q) = %+v, want name %[1]q and LastSeq 0", parley.DefaultRoom, r)
	}
	rooms := mustRooms(t, s)
	if got := roomNames(rooms); !slices.Equal(got, []string{parley.DefaultRoom}) {
		t.Errorf("Rooms() = %q, want only %q", got, parley.DefaultRoom)
	}
}

func testEnsureRoom(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	ctx := t.Context()
	for _, name := range []string{"lobby", "Lobby", "café ☕", strings.Repeat("é", parley.MaxRoomNameLen), "two  inner spaces"} {
		before := time.Now()
		r, err := s.EnsureRoom(ctx, name)
		after := time.Now()
		if err != nil {
			t.Fatalf("EnsureRoom(%q) = %v, want a room", name, err)
		}
		if r.Name != name || r.LastSeq != 0 {
			t.Errorf("EnsureRoom(%q) = %+v, want name %[1]q and LastSeq 0", name, r)
		}
		checkTime(t, fmt.Sprintf("EnsureRoom(%q).CreatedAt", name), r.CreatedAt, before, after)

		again, err := s.EnsureRoom(ctx, name)
		if err != nil {
			t.Fatalf("EnsureRoom(%q) again = %v, want the room", name, err)
		}
		if !sameRoom(again, r) {
			t.Errorf("EnsureRoom(%q) again = %+v, want %+v", name, again, r)
		}
		got, err := s.Room(ctx, name)
		if err != nil {
			t.Fatalf("Room(%q) = %v, want the room EnsureRoom created", name, err)
		}
		if !sameRoom(got, r) {
			t.Errorf("Room(%q) = %+v, want %+v", name, got, r)
		}
	}
	// Names are case-sensitive: "lobby" and "Lobby" are two rooms.
	want := []string{"Lobby", "café ☕", parley.DefaultRoom, "lobby", "two  inner spaces", strings.Repeat("é", parley.MaxRoomNameLen)}
	if got := roomNames(mustRooms(t, s)); !slices.Equal(got, want) {
		t.Errorf("Rooms() = %q, want %q", got, want)
	}
}

func testEnsureRoomConcurrent(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	const callers = 20
	rooms := make([]*parley.Room, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { rooms[i], errs[i] = s.EnsureRoom(t.Context(), "new") })
	}
	wg.Wait()
	for i := range callers {
		if errs[i] != nil {
			t.Fatalf("concurrent EnsureRoom(%q) = %v, want the room", "new", errs[i])
		}
		if !sameRoom(rooms[i], rooms[0]) {
			t.Errorf("concurrent EnsureRoom(%q) = %+v and %+v, want the same room", "new", rooms[i], rooms[0])
		}
	}
	if got, want := roomNames(mustRooms(t, s)), []string{parley.DefaultRoom, "new"}; !slices.Equal(got, want) {
		t.Errorf("Rooms() = %q, want %q", got, want)
	}
}

func testEnsureRoomInvalid(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	for _, name := range []string{"", " lobby", "lobby ", strings.Repeat("x", parley.MaxRoomNameLen+1), "tab\there", "bad\xffutf8", "nul\x00"} {
		r, err := s.EnsureRoom(t.Context(), name)
		if parley.KindOf(err) != parley.Invalid {
			t.Errorf("EnsureRoom(%q) = %+v, %v; want an Invalid error", name, r, err)
		}
	}
	if got := roomNames(mustRooms(t, s)); !slices.Equal(got, []string{parley.DefaultRoom}) {
		t.Errorf("Rooms() after invalid names = %q, want only %q", got, parley.DefaultRoom)
	}
}

func testRoomNotFound(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	for _, name := range []string{"nowhere", "General", ""} {
		r, err := s.Room(t.Context(), name)
		if parley.KindOf(err) != parley.NotFound {
			t.Errorf("Room(%q) = %+v, %v; want a NotFound error", name, r, err)
		}
	}
}

func testRooms(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	for _, name := range []string{"b", "a", "B", "c"} {
		mustEnsureRoom(t, s, name)
	}
	mustAppend(t, s, "a", "ana", "1", "one")
	mustAppend(t, s, "a", "ana", "2", "two")
	mustAppend(t, s, "c", "ana", "1", "one")

	// Names sort byte-wise, as Go compares strings.
	type room struct {
		name    string
		lastSeq int64
	}
	want := []room{{"B", 0}, {"a", 2}, {"b", 0}, {"c", 1}, {parley.DefaultRoom, 0}}
	var got []room
	for _, r := range mustRooms(t, s) {
		got = append(got, room{r.Name, r.LastSeq})
	}
	if !slices.Equal(got, want) {
		t.Errorf("Rooms() = %v, want %v", got, want)
	}
}

// testRoomsPaged reads the rooms in pages: each page starts after the
// name it is given, holds at most its limit, and a bad limit is Invalid.
func testRoomsPaged(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	ctx := t.Context()
	names := []string{"B", "a", "a b", "b", "c", "é", parley.DefaultRoom}
	for _, name := range names {
		mustEnsureRoom(t, s, name)
	}
	slices.Sort(names)
	var got []string
	after := ""
	for range len(names) {
		page, err := s.Rooms(ctx, after, 3)
		if err != nil {
			t.Fatalf("Rooms(%q, 3) = %v", after, err)
		}
		if len(page) > 3 {
			t.Fatalf("Rooms(%q, 3) = %d rooms, want at most 3", after, len(page))
		}
		got = append(got, roomNames(page)...)
		if len(page) < 3 {
			break
		}
		after = page[len(page)-1].Name
	}
	if !slices.Equal(got, names) {
		t.Errorf("Rooms() in pages of 3 = %q, want %q", got, names)
	}
	if page, err := s.Rooms(ctx, "b", 2); err != nil || !slices.Equal(roomNames(page), []string{"c", parley.DefaultRoom}) {
		t.Errorf("Rooms(%q, 2) = %q, %v; want [c %s]", "b", roomNames(page), err, parley.DefaultRoom)
	}
	if page, err := s.Rooms(ctx, "é", 10); err != nil || len(page) != 0 {
		t.Errorf("Rooms(%q, 10) = %q, %v; want none", "é", roomNames(page), err)
	}
	for _, limit := range []int{0, -1, parley.MaxPageSize + 1} {
		if _, err := s.Rooms(ctx, "", limit); parley.KindOf(err) != parley.Invalid {
			t.Errorf("Rooms(\"\", %d) = %v, want Invalid", limit, err)
		}
	}
}

func testAppend(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	ctx := t.Context()
	mustEnsureRoom(t, s, "other")

	// Each room numbers its own log from 1, whatever happens elsewhere.
	sends := []struct {
		room    string
		wantSeq int64
	}{
		{parley.DefaultRoom, 1}, {"other", 1}, {parley.DefaultRoom, 2}, {parley.DefaultRoom, 3}, {"other", 2},
	}
	stored := map[string][]*parley.Entry{}
	for i, send := range sends {
		e := &parley.Entry{Room: send.room, Kind: parley.KindMessage, From: "ana", ClientID: fmt.Sprintf("c-%d", i), Text: fmt.Sprintf("message %d", i)}
		before := time.Now()
		dup, err := s.Append(ctx, e)
		after := time.Now()
		if err != nil || dup {
			t.Fatalf("Append(%+v) = %v, %v; want false, nil", e, dup, err)
		}
		if e.Seq != send.wantSeq {
			t.Errorf("Append(%q message %d) set Seq %d, want %d", send.room, i, e.Seq, send.wantSeq)
		}
		checkTime(t, "Append().At", e.At, before, after)
		stored[send.room] = append(stored[send.room], e)
	}
	for room, want := range stored {
		checkEntries(t, fmt.Sprintf("Entries(%q)", room), mustAllEntries(t, s, room), want)
		r, err := s.Room(ctx, room)
		if err != nil {
			t.Fatalf("Room(%q) = %v", room, err)
		}
		if r.LastSeq != int64(len(want)) {
			t.Errorf("Room(%q).LastSeq = %d, want %d", room, r.LastSeq, len(want))
		}
	}
}

func testAppendConcurrent(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	mustEnsureRoom(t, s, "other")
	rooms := []string{parley.DefaultRoom, "other"}
	const senders, perSender = 50, 40

	acked := make([][]*parley.Entry, senders)
	errs := make(chan error, senders)
	var wg sync.WaitGroup
	for g := range senders {
		wg.Go(func() {
			for i := range perSender {
				e := &parley.Entry{Room: rooms[g%len(rooms)], Kind: parley.KindMessage, From: fmt.Sprintf("sender-%d", g), ClientID: fmt.Sprint(i), Text: fmt.Sprintf("message %d of %d", i, g)}
				if dup, err := s.Append(t.Context(), e); err != nil || dup {
					errs <- fmt.Errorf("Append(%+v) = %v, %v; want false, nil", e, dup, err)
					return
				}
				acked[g] = append(acked[g], e)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	for _, room := range rooms {
		stored := mustAllEntries(t, s, room)
		const want = senders / 2 * perSender
		if len(stored) != want {
			t.Errorf("Entries(%q) has %d entries, want %d", room, len(stored), want)
		}
		bySeq := map[int64]*parley.Entry{}
		for i, e := range stored {
			if e.Seq != int64(i+1) {
				t.Fatalf("Entries(%q)[%d].Seq = %d, want %d: numbers must be gapless", room, i, e.Seq, i+1)
			}
			bySeq[e.Seq] = e
		}
		for g := range senders {
			if rooms[g%len(rooms)] != room {
				continue
			}
			for i, e := range acked[g] {
				checkEntry(t, fmt.Sprintf("stored entry %d of %q", e.Seq, room), bySeq[e.Seq], e)
				// A sender's acknowledged messages keep their order.
				if i > 0 && e.Seq <= acked[g][i-1].Seq {
					t.Errorf("sender %d: message %d got Seq %d after message %d got %d", g, i, e.Seq, i-1, acked[g][i-1].Seq)
				}
			}
		}
	}
}

func testAppendDuplicate(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	ctx := t.Context()
	mustEnsureRoom(t, s, "other")
	first := mustAppend(t, s, parley.DefaultRoom, "ana", "c-1", "hello")

	// A retry, even with other text, gets the stored message back.
	retry := &parley.Entry{Room: parley.DefaultRoom, Kind: parley.KindMessage, From: "ana", ClientID: "c-1", Text: "hello again"}
	dup, err := s.Append(ctx, retry)
	if err != nil || !dup {
		t.Fatalf("Append(retry of %q) = %v, %v; want true, nil", first.ClientID, dup, err)
	}
	checkEntry(t, "Append(retry)", retry, first)

	// The same client id from someone else, or in another room, is new.
	bob := mustAppend(t, s, parley.DefaultRoom, "bob", "c-1", "hi")
	if bob.Seq != 2 {
		t.Errorf("Append(bob's c-1) set Seq %d, want 2: a retry must not use up a number", bob.Seq)
	}
	other := mustAppend(t, s, "other", "ana", "c-1", "elsewhere")
	if other.Seq != 1 {
		t.Errorf("Append(ana's c-1 in %q) set Seq %d, want 1", "other", other.Seq)
	}
	checkEntries(t, "Entries(general)", mustAllEntries(t, s, parley.DefaultRoom), []*parley.Entry{first, bob})
	checkEntries(t, "Entries(other)", mustAllEntries(t, s, "other"), []*parley.Entry{other})
}

func testAppendDuplicateConcurrent(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	// Each of ids is sent by retries times at once; retries may well be
	// committed together with the original.
	const ids, retries = 10, 8
	type result struct {
		e   *parley.Entry
		dup bool
		err error
	}
	results := make([][]result, ids)
	var wg sync.WaitGroup
	for id := range ids {
		results[id] = make([]result, retries)
		for r := range retries {
			wg.Go(func() {
				e := &parley.Entry{Room: parley.DefaultRoom, Kind: parley.KindMessage, From: "ana", ClientID: fmt.Sprintf("c-%d", id), Text: fmt.Sprintf("try %d", r)}
				dup, err := s.Append(t.Context(), e)
				results[id][r] = result{e, dup, err}
			})
		}
	}
	wg.Wait()

	stored := mustAllEntries(t, s, parley.DefaultRoom)
	if len(stored) != ids {
		t.Fatalf("Entries() has %d entries after %d concurrent sends of %d client ids, want %d", len(stored), ids*retries, ids, ids)
	}
	byClientID := map[string]*parley.Entry{}
	for i, e := range stored {
		if e.Seq != int64(i+1) {
			t.Errorf("Entries()[%d].Seq = %d, want %d", i, e.Seq, i+1)
		}
		byClientID[e.ClientID] = e
	}
	for id := range ids {
		originals := 0
		for _, r := range results[id] {
			if r.err != nil {
				t.Fatalf("Append(%q) = %v", r.e.ClientID, r.err)
			}
			if !r.dup {
				originals++
			}
			checkEntry(t, fmt.Sprintf("Append(%q)", r.e.ClientID), r.e, byClientID[r.e.ClientID])
		}
		if originals != 1 {
			t.Errorf("%d concurrent Append(c-%d) reported dup false %d times, want once", retries, id, originals)
		}
	}
}

func testAppendUnknownRoom(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	e := &parley.Entry{Room: "nowhere", Kind: parley.KindMessage, From: "ana", ClientID: "c-1", Text: "hello"}
	dup, err := s.Append(t.Context(), e)
	if parley.KindOf(err) != parley.NotFound || dup {
		t.Errorf("Append(to unknown room) = %v, %v; want false and a NotFound error", dup, err)
	}
	if e.Seq != 0 || !e.At.IsZero() {
		t.Errorf("Append(to unknown room) set Seq %d and At %v, want them unchanged", e.Seq, e.At)
	}
	if _, err := s.Room(t.Context(), "nowhere"); parley.KindOf(err) != parley.NotFound {
		t.Errorf("Room(%q) after Append = %v, want NotFound: Append must not create rooms", "nowhere", err)
	}
}

func testAppendInvalid(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	valid := parley.Entry{Room: parley.DefaultRoom, Kind: parley.KindMessage, From: "ana", ClientID: "c-1", Text: "hello"}
	tests := []struct {
		name   string
		change func(e *parley.Entry)
	}{
		{"empty text", func(e *parley.Entry) { e.Text = "" }},
		{"blank text", func(e *parley.Entry) { e.Text = " \n\t" }},
		{"long text", func(e *parley.Entry) { e.Text = strings.Repeat("x", parley.MaxTextBytes+1) }},
		{"invalid UTF-8", func(e *parley.Entry) { e.Text = "bad \xff" }},
		{"no client id", func(e *parley.Entry) { e.ClientID = "" }},
		{"bad client id", func(e *parley.Entry) { e.ClientID = "a b" }},
		{"long client id", func(e *parley.Entry) { e.ClientID = strings.Repeat("x", parley.MaxClientIDLen+1) }},
		{"no sender", func(e *parley.Entry) { e.From = "" }},
		{"join entry", func(e *parley.Entry) { e.Kind = parley.KindJoin }},
		{"no kind", func(e *parley.Entry) { e.Kind = "" }},
		{"bad room name", func(e *parley.Entry) { e.Room = " general" }},
		{"no room", func(e *parley.Entry) { e.Room = "" }},
	}
	for _, tt := range tests {
		e := valid
		tt.change(&e)
		dup, err := s.Append(t.Context(), &e)
		if parley.KindOf(err) != parley.Invalid || dup {
			t.Errorf("Append(%s) = %v, %v; want false and an Invalid error", tt.name, dup, err)
		}
		if e.Seq != 0 {
			t.Errorf("Append(%s) set Seq %d, want 0", tt.name, e.Seq)
		}
	}
	if got := mustAllEntries(t, s, parley.DefaultRoom); len(got) != 0 {
		t.Errorf("Entries() after invalid appends = %d entries, want none", len(got))
	}
	// The valid message still gets number 1.
	if e := mustAppend(t, s, valid.Room, valid.From, valid.ClientID, valid.Text); e.Seq != 1 {
		t.Errorf("Append(valid) after invalid appends set Seq %d, want 1", e.Seq)
	}
}

func testAppendCancelled(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	e := &parley.Entry{Room: parley.DefaultRoom, Kind: parley.KindMessage, From: "ana", ClientID: "c-1", Text: "hello"}
	if _, err := s.Append(ctx, e); err == nil {
		t.Errorf("Append(cancelled context) = nil, want an error")
	}
	if got := mustAllEntries(t, s, parley.DefaultRoom); len(got) != 0 {
		t.Errorf("Entries() after a cancelled Append = %d entries, want none", len(got))
	}
}

func testJoinLeave(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	ctx := t.Context()
	room := parley.DefaultRoom
	var log []*parley.Entry

	change := func(call string, f func(context.Context, string, string) (*parley.Entry, error), nick string, kind parley.EntryKind) {
		t.Helper()
		before := time.Now()
		e, err := f(ctx, room, nick)
		after := time.Now()
		if err != nil {
			t.Fatalf("%s(%q, %q) = %v", call, room, nick, err)
		}
		want := &parley.Entry{Room: room, Seq: int64(len(log) + 1), Kind: kind, From: nick}
		if e == nil {
			t.Fatalf("%s(%q, %q) = nil, want %s entry %d", call, room, nick, kind, want.Seq)
		}
		checkTime(t, call+"().At", e.At, before, after)
		want.At = e.At
		checkEntry(t, call+"()", e, want)
		log = append(log, e)
	}
	unchanged := func(call string, f func(context.Context, string, string) (*parley.Entry, error), nick string) {
		t.Helper()
		if e, err := f(ctx, room, nick); e != nil || err != nil {
			t.Errorf("%s(%q, %q) = %+v, %v; want nil, nil", call, room, nick, e, err)
		}
	}

	change("Join", s.Join, "ana", parley.KindJoin)
	unchanged("Join", s.Join, "ana")
	checkMembers(t, s, []parley.Member{{Room: room, Nick: "ana"}})
	unchanged("Leave", s.Leave, "bob")
	change("Leave", s.Leave, "ana", parley.KindLeave)
	unchanged("Leave", s.Leave, "ana")
	checkMembers(t, s, nil)
	change("Join", s.Join, "ana", parley.KindJoin)
	log = append(log, mustAppend(t, s, room, "ana", "c-1", "back again"))
	change("Join", s.Join, "bob", parley.KindJoin)

	checkEntries(t, "Entries()", mustAllEntries(t, s, room), log)
	checkMembers(t, s, []parley.Member{{Room: room, Nick: "ana"}, {Room: room, Nick: "bob"}})
}

// testAddRemoveMember: memberships changed without entries, as in large
// rooms, mixed with those changed with them; the log stays numbered
// without a gap.
func testAddRemoveMember(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	ctx := t.Context()
	room := parley.DefaultRoom
	quiet := func(call string, f func(context.Context, string, string) (bool, error), nick string, want bool) {
		t.Helper()
		if got, err := f(ctx, room, nick); got != want || err != nil {
			t.Fatalf("%s(%q, %q) = %v, %v; want %v, nil", call, room, nick, got, err, want)
		}
	}
	quiet("AddMember", s.AddMember, "ana", true)
	quiet("AddMember", s.AddMember, "ana", false)
	if e, err := s.Join(ctx, room, "ana"); e != nil || err != nil {
		t.Errorf("Join(%q, %q) of a member = %+v, %v; want nil, nil", room, "ana", e, err)
	}
	quiet("AddMember", s.AddMember, "bob", true)
	checkMembers(t, s, []parley.Member{{Room: room, Nick: "ana"}, {Room: room, Nick: "bob"}})
	log := []*parley.Entry{mustAppend(t, s, room, "ana", "c-1", "hello")}
	quiet("RemoveMember", s.RemoveMember, "bob", true)
	quiet("RemoveMember", s.RemoveMember, "bob", false)
	e, err := s.Join(ctx, room, "bob")
	if err != nil || e == nil || e.Seq != 2 {
		t.Fatalf("Join(%q, %q) after RemoveMember = %+v, %v; want join entry 2", room, "bob", e, err)
	}
	log = append(log, e)
	e, err = s.Leave(ctx, room, "ana")
	if err != nil || e == nil || e.Seq != 3 {
		t.Fatalf("Leave(%q, %q) of a member added quietly = %+v, %v; want leave entry 3", room, "ana", e, err)
	}
	log = append(log, e)
	checkEntries(t, "Entries()", mustAllEntries(t, s, room), log)
	checkMembers(t, s, []parley.Member{{Room: room, Nick: "bob"}})
	if _, err := s.AddMember(ctx, "nowhere", "ana"); parley.KindOf(err) != parley.NotFound {
		t.Errorf("AddMember(%q, %q) = %v, want a NotFound error", "nowhere", "ana", err)
	}
	if _, err := s.RemoveMember(ctx, room, ""); parley.KindOf(err) != parley.Invalid {
		t.Errorf("RemoveMember(%q, %q) = %v, want an Invalid error", room, "", err)
	}
}

func testJoinLeaveErrors(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	ctx := t.Context()
	calls := []struct {
		name string
		f    func(context.Context, string, string) (*parley.Entry, error)
	}{{"Join", s.Join}, {"Leave", s.Leave}}
	for _, c := range calls {
		if e, err := c.f(ctx, "nowhere", "ana"); parley.KindOf(err) != parley.NotFound {
			t.Errorf("%s(%q, %q) = %+v, %v; want a NotFound error", c.name, "nowhere", "ana", e, err)
		}
		for _, nick := range []string{"", " ana", strings.Repeat("x", parley.MaxNickLen+1)} {
			if e, err := c.f(ctx, parley.DefaultRoom, nick); parley.KindOf(err) != parley.Invalid {
				t.Errorf("%s(%q, %q) = %+v, %v; want an Invalid error", c.name, parley.DefaultRoom, nick, e, err)
			}
		}
	}
	checkMembers(t, s, nil)
	if got := mustAllEntries(t, s, parley.DefaultRoom); len(got) != 0 {
		t.Errorf("Entries() after failed joins and leaves = %d entries, want none", len(got))
	}
}

func testJoinConcurrent(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	const callers = 20
	entries := make([]*parley.Entry, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { entries[i], errs[i] = s.Join(t.Context(), parley.DefaultRoom, "ana") })
	}
	wg.Wait()
	joined := 0
	for i := range callers {
		if errs[i] != nil {
			t.Fatalf("concurrent Join() = %v", errs[i])
		}
		if entries[i] != nil {
			joined++
		}
	}
	if joined != 1 {
		t.Errorf("%d concurrent Join() of one person returned %d entries, want 1", callers, joined)
	}
	if got := mustAllEntries(t, s, parley.DefaultRoom); len(got) != 1 {
		t.Errorf("Entries() after concurrent joins = %d entries, want 1", len(got))
	}
	checkMembers(t, s, []parley.Member{{Room: parley.DefaultRoom, Nick: "ana"}})
}

func testMembers(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	checkMembers(t, s, nil)
	mustEnsureRoom(t, s, "other")
	for _, m := range []parley.Member{
		{Room: "other", Nick: "bob"},
		{Room: parley.DefaultRoom, Nick: "ana"},
		{Room: "other", Nick: "ana"},
		{Room: parley.DefaultRoom, Nick: "cy"},
	} {
		if _, err := s.Join(t.Context(), m.Room, m.Nick); err != nil {
			t.Fatalf("Join(%q, %q) = %v", m.Room, m.Nick, err)
		}
	}
	if _, err := s.Leave(t.Context(), parley.DefaultRoom, "cy"); err != nil {
		t.Fatalf("Leave(%q, %q) = %v", parley.DefaultRoom, "cy", err)
	}
	checkMembers(t, s, []parley.Member{
		{Room: parley.DefaultRoom, Nick: "ana"},
		{Room: "other", Nick: "ana"},
		{Room: "other", Nick: "bob"},
	})
}

func testEntries(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	const room = "log"
	mustEnsureRoom(t, s, room)
	var log []*parley.Entry
	for i := range 10 {
		log = append(log, mustAppend(t, s, room, "ana", fmt.Sprint(i), fmt.Sprintf("message %d", i+1)))
	}
	// A busy neighbour must not show through.
	for i := range 3 {
		mustAppend(t, s, parley.DefaultRoom, "bob", fmt.Sprint(i), "elsewhere")
	}

	tests := []struct {
		page parley.Page
		want []int64 // sequence numbers
	}{
		// Newest first, when scrolling back.
		{parley.Page{Limit: 3}, seqs(8, 10)},
		{parley.Page{Limit: 10}, seqs(1, 10)},
		{parley.Page{Limit: parley.MaxPageSize}, seqs(1, 10)},
		{parley.Page{Before: 5, Limit: 3}, seqs(2, 4)},
		{parley.Page{Before: 3, Limit: 5}, seqs(1, 2)},
		{parley.Page{Before: 2, Limit: 1}, seqs(1, 1)},
		{parley.Page{Before: 1, Limit: 5}, nil},
		{parley.Page{Before: 11, Limit: 2}, seqs(9, 10)},
		{parley.Page{Before: 100, Limit: 3}, seqs(8, 10)},
		// Without Oldest, After bounds the range but the newest are taken.
		{parley.Page{After: 0, Before: 11, Limit: 3}, seqs(8, 10)},
		{parley.Page{After: 2, Before: 9, Limit: 3}, seqs(6, 8)},
		{parley.Page{After: 6, Limit: 10}, seqs(7, 10)},
		// Oldest first, when catching up, from the very start too.
		{parley.Page{After: 0, Limit: 3, Oldest: true}, seqs(1, 3)},
		{parley.Page{Limit: parley.MaxPageSize, Oldest: true}, seqs(1, 10)},
		{parley.Page{After: 3, Limit: 3, Oldest: true}, seqs(4, 6)},
		{parley.Page{After: 1, Limit: 1, Oldest: true}, seqs(2, 2)},
		{parley.Page{After: 8, Limit: 5, Oldest: true}, seqs(9, 10)},
		{parley.Page{After: 9, Limit: parley.MaxPageSize, Oldest: true}, seqs(10, 10)},
		{parley.Page{After: 10, Limit: 5, Oldest: true}, nil},
		{parley.Page{After: 50, Limit: 5, Oldest: true}, nil},
		// Both bounds: the oldest between them.
		{parley.Page{After: 0, Before: 5, Limit: 2, Oldest: true}, seqs(1, 2)},
		{parley.Page{After: 2, Before: 6, Limit: 10, Oldest: true}, seqs(3, 5)},
		{parley.Page{After: 2, Before: 9, Limit: 3, Oldest: true}, seqs(3, 5)},
		{parley.Page{After: 4, Before: 5, Limit: 3, Oldest: true}, nil},
		{parley.Page{After: 4, Before: 6, Limit: 3, Oldest: true}, seqs(5, 5)},
		{parley.Page{After: 7, Before: 100, Limit: 10, Oldest: true}, seqs(8, 10)},
	}
	for _, tt := range tests {
		got, err := s.Entries(t.Context(), room, tt.page)
		if err != nil {
			t.Errorf("Entries(%+v) = %v", tt.page, err)
			continue
		}
		var want []*parley.Entry
		for _, seq := range tt.want {
			want = append(want, log[seq-1])
		}
		checkEntries(t, fmt.Sprintf("Entries(%+v)", tt.page), got, want)
	}
}

func testEntriesEmptyRoom(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	for _, p := range []parley.Page{{Limit: 10}, {After: 1, Limit: 10}, {Before: 5, Limit: 10}, {After: 1, Before: 5, Limit: 10}} {
		got, err := s.Entries(t.Context(), parley.DefaultRoom, p)
		if err != nil || len(got) != 0 {
			t.Errorf("Entries(empty room, %+v) = %d entries, %v; want none, nil", p, len(got), err)
		}
	}
}

func testEntriesErrors(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	mustAppend(t, s, parley.DefaultRoom, "ana", "c-1", "hello")
	for _, p := range []parley.Page{
		{},
		{Limit: -1},
		{Limit: parley.MaxPageSize + 1},
		{Before: -1, Limit: 10},
		{After: -1, Limit: 10},
		{After: 5, Before: 5, Limit: 10},
		{After: 6, Before: 5, Limit: 10},
	} {
		got, err := s.Entries(t.Context(), parley.DefaultRoom, p)
		if parley.KindOf(err) != parley.Invalid || parley.CodeOf(err) != "invalid_page" {
			t.Errorf("Entries(%+v) = %d entries, %v (code %q); want an Invalid error with code invalid_page", p, len(got), err, parley.CodeOf(err))
		}
	}
	for _, room := range []string{"nowhere", "General"} {
		if got, err := s.Entries(t.Context(), room, parley.Page{Limit: 10}); parley.KindOf(err) != parley.NotFound {
			t.Errorf("Entries(%q) = %d entries, %v; want a NotFound error", room, len(got), err)
		}
	}
}

func testPing(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping() = %v, want nil", err)
	}
}

func testReopen(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	mustEnsureRoom(t, s, "other")
	var log []*parley.Entry
	for i := range 5 {
		log = append(log, mustAppend(t, s, "other", "ana", fmt.Sprint(i), fmt.Sprintf("message %d", i)))
	}
	e, err := s.Join(t.Context(), "other", "bob")
	if err != nil {
		t.Fatalf("Join() = %v", err)
	}
	log = append(log, e)
	rooms := mustRooms(t, s)
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}

	s = mustOpen(t, open)
	got := mustRooms(t, s)
	if len(got) != len(rooms) {
		t.Fatalf("Rooms() after reopening = %q, want %q", roomNames(got), roomNames(rooms))
	}
	for i := range rooms {
		if !sameRoom(got[i], rooms[i]) {
			t.Errorf("Rooms()[%d] after reopening = %+v, want %+v", i, got[i], rooms[i])
		}
	}
	checkEntries(t, "Entries() after reopening", mustAllEntries(t, s, "other"), log)
	checkMembers(t, s, []parley.Member{{Room: "other", Nick: "bob"}})

	// Retries are still recognised, and numbering goes on.
	retry := &parley.Entry{Room: "other", Kind: parley.KindMessage, From: "ana", ClientID: "0", Text: "again"}
	if dup, err := s.Append(t.Context(), retry); err != nil || !dup {
		t.Errorf("Append(retry) after reopening = %v, %v; want true, nil", dup, err)
	}
	checkEntry(t, "Append(retry) after reopening", retry, log[0])
	if e := mustAppend(t, s, "other", "ana", "new", "new"); e.Seq != int64(len(log)+1) {
		t.Errorf("Append() after reopening set Seq %d, want %d", e.Seq, len(log)+1)
	}
}

func testClosed(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	ctx := t.Context()
	e := &parley.Entry{Room: parley.DefaultRoom, Kind: parley.KindMessage, From: "ana", ClientID: "c-1", Text: "hello"}
	calls := map[string]func() error{
		"Append":        func() error { _, err := s.Append(ctx, e); return err },
		"EnsureRoom":    func() error { _, err := s.EnsureRoom(ctx, "new"); return err },
		"Room":          func() error { _, err := s.Room(ctx, parley.DefaultRoom); return err },
		"Rooms":         func() error { _, err := s.Rooms(ctx, "", 10); return err },
		"Join":          func() error { _, err := s.Join(ctx, parley.DefaultRoom, "ana"); return err },
		"Leave":         func() error { _, err := s.Leave(ctx, parley.DefaultRoom, "ana"); return err },
		"Members":       func() error { _, err := s.Members(ctx); return err },
		"Entries":       func() error { _, err := s.Entries(ctx, parley.DefaultRoom, parley.Page{Limit: 10}); return err },
		"Ping":          func() error { return s.Ping(ctx) },
		"CreateSession": func() error { _, err := s.CreateSession(ctx, "ana", time.Hour); return err },
		"Session":       func() error { _, err := s.Session(ctx, "token"); return err },
		"ExtendSession": func() error { return s.ExtendSession(ctx, "token", time.Hour) },
		"EndSession":    func() error { return s.EndSession(ctx, "token") },
		"MarkRead":      func() error { return s.MarkRead(ctx, parley.DefaultRoom, "ana", 0) },
		"ReadMarker":    func() error { _, err := s.ReadMarker(ctx, parley.DefaultRoom, "ana"); return err },
		"ReadMarkers":   func() error { _, err := s.ReadMarkers(ctx, "ana", "", 10); return err },
	}
	for name, call := range calls {
		if err := call(); err == nil {
			t.Errorf("%s() after Close = nil, want an error", name)
		}
	}

	s = mustOpen(t, open)
	if got := mustAllEntries(t, s, parley.DefaultRoom); len(got) != 0 {
		t.Errorf("Entries() after calls to a closed store = %d entries, want none", len(got))
	}
	checkMembers(t, s, nil)
	if _, err := s.Room(ctx, "new"); parley.KindOf(err) != parley.NotFound {
		t.Errorf("Room(%q) after EnsureRoom on a closed store = %v, want NotFound", "new", err)
	}
	if _, err := s.CreateSession(ctx, "ana", time.Hour); err != nil {
		t.Errorf("CreateSession(ana) after CreateSession on a closed store = %v, want a session", err)
	}
}

// testCloseWhileAppending checks the promise that nothing acknowledged is
// lost: appends racing with Close either succeed, and are then stored, or
// fail, and are then not stored.
func testCloseWhileAppending(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	const senders, perSender, closeAfter = 20, 100, 50

	type result struct {
		e   *parley.Entry
		err error
	}
	results := make([][]result, senders)
	acks := make(chan struct{}, senders*perSender)
	var wg sync.WaitGroup
	for g := range senders {
		wg.Go(func() {
			for i := range perSender {
				e := &parley.Entry{Room: parley.DefaultRoom, Kind: parley.KindMessage, From: fmt.Sprintf("sender-%d", g), ClientID: fmt.Sprint(i), Text: "hello"}
				_, err := s.Append(t.Context(), e)
				results[g] = append(results[g], result{e, err})
				if err != nil {
					return
				}
				acks <- struct{}{}
			}
		})
	}
	finished := make(chan struct{})
	go func() {
		wg.Wait()
		close(finished)
	}()
	// Close once enough appends are acknowledged, or once the senders
	// gave up, so that a store that fails them does not hang the test.
wait:
	for range closeAfter {
		select {
		case <-acks:
		case <-finished:
			break wait
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close() while appending = %v", err)
	}
	<-finished

	s = mustOpen(t, open)
	stored := map[string]*parley.Entry{}
	for i, e := range mustAllEntries(t, s, parley.DefaultRoom) {
		if e.Seq != int64(i+1) {
			t.Fatalf("Entries()[%d].Seq = %d, want %d", i, e.Seq, i+1)
		}
		stored[e.From+"/"+e.ClientID] = e
	}
	acked, failed := 0, 0
	for g := range senders {
		for _, r := range results[g] {
			got := stored[r.e.From+"/"+r.e.ClientID]
			switch {
			case r.err == nil && got == nil:
				t.Errorf("message %s/%s was acknowledged with Seq %d, but is not stored after Close", r.e.From, r.e.ClientID, r.e.Seq)
			case r.err == nil:
				acked++
				checkEntry(t, "stored entry", got, r.e)
			case got != nil:
				t.Errorf("Append(%s/%s) = %v, but the message is stored as %d", r.e.From, r.e.ClientID, r.err, got.Seq)
			default:
				failed++
			}
		}
	}
	if acked < closeAfter || acked != len(stored) {
		t.Errorf("%d appends acknowledged, %d stored; want the same, at least %d", acked, len(stored), closeAfter)
	}
	t.Logf("%d appends acknowledged before Close, %d failed", acked, failed)
}

// mustOpen opens the database and closes the store when the test ends.
func mustOpen(t testing.TB, open OpenFunc) parley.Store {
	t.Helper()
	s, err := open(t.Context())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	// A store the test closed already returns an error, which is fine.
	t.Cleanup(func() { s.Close() })
	return s
}

func mustEnsureRoom(t testing.TB, s parley.Store, name string) *parley.Room {
	t.Helper()
	r, err := s.EnsureRoom(t.Context(), name)
	if err != nil {
		t.Fatalf("EnsureRoom(%q) = %v", name, err)
	}
	return r
}

// mustRooms returns every room, reading them a page at a time.
func mustRooms(t testing.TB, s parley.Store) []*parley.Room {
	t.Helper()
	var rooms []*parley.Room
	after := ""
	for {
		page, err := s.Rooms(t.Context(), after, parley.MaxPageSize)
		if err != nil {
			t.Fatalf("Rooms(%q) = %v", after, err)
		}
		rooms = append(rooms, page...)
		if len(page) < parley.MaxPageSize {
			return rooms
		}
		after = page[len(page)-1].Name
	}
}

// mustAppend appends a new message and returns it as stored.
func mustAppend(t testing.TB, s parley.Store, room, from, clientID, text string) *parley.Entry {
	t.Helper()
	e := &parley.Entry{Room: room, Kind: parley.KindMessage, From: from, ClientID: clientID, Text: text}
	dup, err := s.Append(t.Context(), e)
	if err != nil || dup {
		t.Fatalf("Append(%+v) = %v, %v; want false, nil", e, dup, err)
	}
	return e
}

// mustAllEntries reads room's whole log, page by page, as a client catching
// up does.
func mustAllEntries(t testing.TB, s parley.Store, room string) []*parley.Entry {
	t.Helper()
	// The first page starts at 1, which "after 0" cannot say.
	all, err := s.Entries(t.Context(), room, parley.Page{Before: parley.MaxPageSize + 1, Limit: parley.MaxPageSize})
	for err == nil && len(all) > 0 {
		var page []*parley.Entry
		page, err = s.Entries(t.Context(), room, parley.Page{After: all[len(all)-1].Seq, Limit: parley.MaxPageSize, Oldest: true})
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
	}
	if err != nil {
		t.Fatalf("Entries(%q) = %v", room, err)
	}
	return all
}

func checkMembers(t testing.TB, s parley.Store, want []parley.Member) {
	t.Helper()
	got, err := s.Members(t.Context())
	if err != nil {
		t.Fatalf("Members() = %v", err)
	}
	less := func(a, b parley.Member) int { return strings.Compare(a.Room+"\x00"+a.Nick, b.Room+"\x00"+b.Nick) }
	slices.SortFunc(got, less)
	want = slices.Clone(want)
	slices.SortFunc(want, less)
	if !slices.Equal(got, want) {
		t.Errorf("Members() = %v, want %v", got, want)
	}
}

// checkTime checks that a time the store stamped lies between before and
// after, allowing for the store keeping only milliseconds, and is in UTC.
func checkTime(t testing.TB, what string, got, before, after time.Time) {
	t.Helper()
	if got.Before(before.Truncate(time.Millisecond)) || got.After(after) {
		t.Errorf("%s = %v, want between %v and %v", what, got, before, after)
	}
	if got.Location() != time.UTC {
		t.Errorf("%s = %v, want a time in UTC", what, got)
	}
}

func checkEntries(t testing.TB, call string, got, want []*parley.Entry) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s = %d entries %v, want %d %v", call, len(got), entrySeqs(got), len(want), entrySeqs(want))
		return
	}
	for i := range got {
		checkEntry(t, fmt.Sprintf("%s[%d]", call, i), got[i], want[i])
	}
}

func checkEntry(t testing.TB, what string, got, want *parley.Entry) {
	t.Helper()
	switch {
	case got == nil || want == nil:
		if got != want {
			t.Errorf("%s = %+v, want %+v", what, got, want)
		}
	case got.Room != want.Room || got.Seq != want.Seq || got.Kind != want.Kind || got.From != want.From ||
		got.Text != want.Text || got.ClientID != want.ClientID || !got.At.Equal(want.At) ||
		got.Target != want.Target || got.Edited != want.Edited || got.Deleted != want.Deleted:
		t.Errorf("%s = %+v, want %+v", what, *got, *want)
	}
}

func sameRoom(a, b *parley.Room) bool {
	return a.Name == b.Name && a.LastSeq == b.LastSeq && a.CreatedAt.Equal(b.CreatedAt)
}

func roomNames(rooms []*parley.Room) []string {
	var names []string
	for _, r := range rooms {
		names = append(names, r.Name)
	}
	return names
}

func entrySeqs(entries []*parley.Entry) []int64 {
	var s []int64
	for _, e := range entries {
		s = append(s, e.Seq)
	}
	return s
}

// seqs returns the numbers from first to last.
func seqs(first, last int64) []int64 {
	var s []int64
	for n := first; n <= last; n++ {
		s = append(s, n)
	}
	return s
}
