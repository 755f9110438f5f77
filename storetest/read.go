package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/parley-chat/parley"
)

// testReadMarkers checks that a read marker is a person's, by NickKey, per
// room; that it moves forward only; and that it survives Close.
func testReadMarkers(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	for _, room := range []string{"b-room", "a-room", "c-room"} {
		mustEnsureRoom(t, s, room)
		for i := range 5 {
			mustAppend(t, s, room, "bob", fmt.Sprint(i), "hello")
		}
	}
	checkMarker(t, s, "a-room", "ana", 0)
	checkMarker(t, s, "nowhere", "ana", 0)
	checkMarkers(t, s, "ana", "", parley.MaxPageSize, nil)

	mustMarkRead(t, s, "a-room", "ana", 3)
	checkMarker(t, s, "a-room", "ana", 3)
	checkMarker(t, s, "a-room", "ANA", 3) // one person, however the name is written
	checkMarker(t, s, "a-room", "bob", 0) // another person
	checkMarker(t, s, "b-room", "ana", 0) // another room

	mustMarkRead(t, s, "a-room", "Ana", 2) // never back
	checkMarker(t, s, "a-room", "ana", 3)
	mustMarkRead(t, s, "a-room", "ana", 0)
	checkMarker(t, s, "a-room", "ana", 3)
	mustMarkRead(t, s, "a-room", "ana", 5) // up to the room's last entry
	checkMarker(t, s, "a-room", "ana", 5)

	mustMarkRead(t, s, "c-room", "ana", 1)
	mustMarkRead(t, s, "b-room", "ana", 4)
	mustMarkRead(t, s, "b-room", "bob", 2)
	all := []parley.ReadMarker{{Room: "a-room", Seq: 5}, {Room: "b-room", Seq: 4}, {Room: "c-room", Seq: 1}}
	checkMarkers(t, s, "ana", "", parley.MaxPageSize, all)
	checkMarkers(t, s, "ana", "", 2, all[:2])
	checkMarkers(t, s, "ana", "b-room", 2, all[2:])
	checkMarkers(t, s, "ana", "c-room", 2, nil)
	checkMarkers(t, s, "bob", "", 10, []parley.ReadMarker{{Room: "b-room", Seq: 2}})

	// A marker of a room's newest entry stays right as the room grows.
	mustAppend(t, s, "a-room", "bob", "new", "hello")
	checkMarker(t, s, "a-room", "ana", 5)
	mustMarkRead(t, s, "a-room", "ana", 6)

	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	s = mustOpen(t, open)
	all[0].Seq = 6
	checkMarkers(t, s, "ana", "", parley.MaxPageSize, all)
	checkMarker(t, s, "b-room", "bob", 2)
}

// testReadMarkerErrors checks that a bad mark is refused and changes
// nothing.
func testReadMarkerErrors(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	ctx := t.Context()
	mustAppend(t, s, parley.DefaultRoom, "bob", "1", "hello")
	mustAppend(t, s, parley.DefaultRoom, "bob", "2", "hello")
	mustMarkRead(t, s, parley.DefaultRoom, "ana", 1)
	tests := []struct {
		room, nick string
		seq        int64
		kind       parley.Kind
		code       string
	}{
		{parley.DefaultRoom, "ana", -1, parley.Invalid, parley.CodeInvalidSeq},
		{parley.DefaultRoom, "ana", 3, parley.Invalid, parley.CodeInvalidSeq},
		{parley.DefaultRoom, "ana", 1 << 40, parley.Invalid, parley.CodeInvalidSeq},
		{parley.DefaultRoom, " ana", 2, parley.Invalid, parley.CodeInvalidNick},
		{parley.DefaultRoom, "", 2, parley.Invalid, parley.CodeInvalidNick},
		{"nowhere", "ana", 0, parley.NotFound, ""},
		{"General", "ana", 1, parley.NotFound, ""},
		{"nul\x00", "ana", 1, parley.NotFound, ""},
	}
	for _, tt := range tests {
		err := s.MarkRead(ctx, tt.room, tt.nick, tt.seq)
		if parley.KindOf(err) != tt.kind || (tt.code != "" && parley.CodeOf(err) != tt.code) {
			t.Errorf("MarkRead(%q, %q, %d) = %v; want %v %s", tt.room, tt.nick, tt.seq, err, tt.kind, tt.code)
		}
	}
	checkMarker(t, s, parley.DefaultRoom, "ana", 1)
	checkMarkers(t, s, "ana", "", 10, []parley.ReadMarker{{Room: parley.DefaultRoom, Seq: 1}})
	if _, err := s.Room(ctx, "nowhere"); parley.KindOf(err) != parley.NotFound {
		t.Errorf("Room(nowhere) after MarkRead(nowhere) = %v, want NotFound", err)
	}
	for _, limit := range []int{0, -1, parley.MaxPageSize + 1} {
		if got, err := s.ReadMarkers(ctx, "ana", "", limit); parley.KindOf(err) != parley.Invalid {
			t.Errorf("ReadMarkers(limit %d) = %v, %v; want an Invalid error", limit, got, err)
		}
	}
}

// testReadMarkerConcurrent has one person mark a room from many tabs at
// once, in every order, and several people mark it at once: each marker
// ends at the highest that was marked.
func testReadMarkerConcurrent(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	const last = 30
	for i := range last {
		mustAppend(t, s, parley.DefaultRoom, "bob", fmt.Sprint(i), "hello")
	}
	people := []string{"ana", "bob", "cat"}
	var wg sync.WaitGroup
	errs := make(chan error, last*len(people))
	for _, nick := range people {
		for seq := range int64(last) {
			wg.Go(func() {
				// ana marks up to last, bob to last-1, cat to last-2.
				if top := int64(last - slices.Index(people, nick)); seq+1 <= top {
					errs <- s.MarkRead(t.Context(), parley.DefaultRoom, nick, seq+1)
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent MarkRead() = %v", err)
		}
	}
	for i, nick := range people {
		checkMarker(t, s, parley.DefaultRoom, nick, int64(last-i))
	}
}

func mustMarkRead(t testing.TB, s parley.Store, room, nick string, seq int64) {
	t.Helper()
	if err := s.MarkRead(t.Context(), room, nick, seq); err != nil {
		t.Fatalf("MarkRead(%q, %q, %d) = %v", room, nick, seq, err)
	}
}

func checkMarker(t testing.TB, s parley.Store, room, nick string, want int64) {
	t.Helper()
	got, err := s.ReadMarker(t.Context(), room, nick)
	if err != nil || got != want {
		t.Errorf("ReadMarker(%q, %q) = %d, %v; want %d", room, nick, got, err, want)
	}
}

func checkMarkers(t testing.TB, s parley.Store, nick, after string, limit int, want []parley.ReadMarker) {
	t.Helper()
	got, err := s.ReadMarkers(t.Context(), nick, after, limit)
	if err != nil {
		t.Fatalf("ReadMarkers(%q, %q, %d) = %v", nick, after, limit, err)
	}
	if got == nil {
		t.Errorf("ReadMarkers(%q, %q, %d) = nil, want a slice, empty if need be", nick, after, limit)
	}
	if !slices.Equal(got, want) {
		t.Errorf("ReadMarkers(%q, %q, %d) = %+v, want %+v", nick, after, limit, got, want)
	}
}
