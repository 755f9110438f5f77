package storetest

import (
	"cmp"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// testAmend edits and deletes messages, and reads the log as a page of
// history shows it: each message as it stands, its edits' text gone with
// it, gapless numbers, and the same after reopening.
func testAmend(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	const room = parley.DefaultRoom
	one := mustAppend(t, s, room, "ana", "a-1", "one")
	two := mustAppend(t, s, room, "bob", "b-1", "two")

	before := time.Now()
	edit := mustAmend(t, s, &parley.Entry{Room: room, Kind: parley.KindEdit, From: "ana", Target: one.Seq, ClientID: "a-2", Text: "one, edited"}, false)
	checkTime(t, "Amend(edit).At", edit.At, before, time.Now())
	if edit.Seq != 3 || edit.Kind != parley.KindEdit || edit.Target != one.Seq || edit.Text != "one, edited" {
		t.Errorf("Amend(edit) = %+v, want edit 3 of message 1 with its text", *edit)
	}
	again := mustAmend(t, s, &parley.Entry{Room: room, Kind: parley.KindEdit, From: "ana", Target: one.Seq, ClientID: "a-3", Text: "one, edited twice"}, false)
	edited := *one
	edited.Text, edited.Edited = "one, edited twice", again.Seq
	checkEntries(t, "Entries() after two edits", mustAllEntries(t, s, room), []*parley.Entry{&edited, two, edit, again})

	// An administrator deletes bob's message; ana deletes her own, which
	// takes the text of its edits too.
	del := mustAmend(t, s, &parley.Entry{Room: room, Kind: parley.KindDelete, From: "root", Target: two.Seq, ClientID: "r-1"}, true)
	if del.Seq != 5 || del.Kind != parley.KindDelete || del.Target != two.Seq || del.Text != "" {
		t.Errorf("Amend(delete) = %+v, want deletion 5 of message 2 without text", *del)
	}
	own := mustAmend(t, s, &parley.Entry{Room: room, Kind: parley.KindDelete, From: "ana", Target: one.Seq, ClientID: "a-4"}, false)
	deletedOne := *one
	deletedOne.Text, deletedOne.Edited, deletedOne.Deleted = "", again.Seq, own.Seq
	deletedTwo := *two
	deletedTwo.Text, deletedTwo.Deleted = "", del.Seq
	gone := func(e *parley.Entry) *parley.Entry {
		c := *e
		c.Text, c.Deleted = "", own.Seq
		return &c
	}
	want := []*parley.Entry{&deletedOne, &deletedTwo, gone(edit), gone(again), del, own}
	checkEntries(t, "Entries() after deletions", mustAllEntries(t, s, room), want)
	if r, err := s.Room(t.Context(), room); err != nil || r.LastSeq != 6 {
		t.Errorf("Room() after deletions = %+v, %v; want LastSeq 6", r, err)
	}
	// A page that holds only the message shows it as it stands.
	page, err := s.Entries(t.Context(), room, parley.Page{Before: 2, Limit: 1})
	if err != nil {
		t.Fatalf("Entries(before 2) = %v", err)
	}
	checkEntries(t, "Entries(before 2)", page, want[:1])

	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	s = mustOpen(t, open)
	checkEntries(t, "Entries() after reopening", mustAllEntries(t, s, room), want)
}

// testAmendErrors tries what may not be done, and wants the right error
// and the log unchanged after each.
func testAmendErrors(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	ctx := t.Context()
	const room = parley.DefaultRoom
	mine := mustAppend(t, s, room, "ana", "a-1", "mine")
	join, err := s.Join(ctx, room, "bob")
	if err != nil {
		t.Fatalf("Join() = %v", err)
	}
	gone := mustAppend(t, s, room, "ana", "a-2", "gone")
	mustAmend(t, s, &parley.Entry{Room: room, Kind: parley.KindDelete, From: "ana", Target: gone.Seq, ClientID: "a-3"}, false)
	edit := mustAmend(t, s, &parley.Entry{Room: room, Kind: parley.KindEdit, From: "ana", Target: mine.Seq, ClientID: "a-4", Text: "mine, edited"}, false)
	log := mustAllEntries(t, s, room)

	tests := []struct {
		name  string
		e     parley.Entry
		admin bool
		kind  parley.Kind
		code  string
	}{
		{"edit of someone else's", parley.Entry{Kind: parley.KindEdit, From: "bob", Target: mine.Seq, Text: "bob's"}, false, parley.Forbidden, parley.CodeNotYours},
		{"edit by an admin", parley.Entry{Kind: parley.KindEdit, From: "root", Target: mine.Seq, Text: "root's"}, true, parley.Forbidden, parley.CodeNotYours},
		{"deletion of someone else's", parley.Entry{Kind: parley.KindDelete, From: "bob", Target: mine.Seq}, false, parley.Forbidden, parley.CodeNotYours},
		{"edit of a deleted message", parley.Entry{Kind: parley.KindEdit, From: "ana", Target: gone.Seq, Text: "back"}, false, parley.Conflict, parley.CodeAlreadyDeleted},
		{"deletion of a deleted message", parley.Entry{Kind: parley.KindDelete, From: "root", Target: gone.Seq}, true, parley.Conflict, parley.CodeAlreadyDeleted},
		{"edit of a join", parley.Entry{Kind: parley.KindEdit, From: "bob", Target: join.Seq, Text: "no"}, false, parley.NotFound, parley.CodeNoMessage},
		{"edit of an edit", parley.Entry{Kind: parley.KindEdit, From: "ana", Target: edit.Seq, Text: "no"}, false, parley.NotFound, parley.CodeNoMessage},
		{"deletion of a message to come", parley.Entry{Kind: parley.KindDelete, From: "ana", Target: edit.Seq + 1}, true, parley.NotFound, parley.CodeNoMessage},
		{"edit in an unknown room", parley.Entry{Room: "nowhere", Kind: parley.KindEdit, From: "ana", Target: mine.Seq, Text: "no"}, false, parley.NotFound, ""},
		{"no target", parley.Entry{Kind: parley.KindEdit, From: "ana", Text: "no"}, false, parley.Invalid, parley.CodeInvalidTarget},
		{"blank edit", parley.Entry{Kind: parley.KindEdit, From: "ana", Target: mine.Seq, Text: " "}, false, parley.Invalid, parley.CodeEmptyMessage},
		{"deletion with text", parley.Entry{Kind: parley.KindDelete, From: "ana", Target: mine.Seq, Text: "why"}, false, parley.Invalid, ""},
		{"a message", parley.Entry{Kind: parley.KindMessage, From: "ana", Text: "hi"}, false, parley.Invalid, ""},
		{"bad client id", parley.Entry{Kind: parley.KindDelete, From: "ana", Target: mine.Seq, ClientID: "no spaces"}, false, parley.Invalid, parley.CodeInvalidClientID},
	}
	for i, tt := range tests {
		e := tt.e
		e.Room = cmp.Or(e.Room, room)
		e.ClientID = cmp.Or(e.ClientID, fmt.Sprintf("x-%d", i))
		dup, err := s.Amend(ctx, &e, tt.admin)
		if err == nil || dup {
			t.Errorf("Amend(%s) = %v, %v; want an error", tt.name, dup, err)
			continue
		}
		if parley.KindOf(err) != tt.kind || tt.code != "" && parley.CodeOf(err) != tt.code {
			t.Errorf("Amend(%s) = %v (%v, %s), want kind %v, code %q", tt.name, err, parley.KindOf(err), parley.CodeOf(err), tt.kind, tt.code)
		}
		if e.Seq != 0 {
			t.Errorf("Amend(%s) failed but set Seq %d", tt.name, e.Seq)
		}
	}
	// Append stores messages only.
	e := &parley.Entry{Room: room, Kind: parley.KindEdit, From: "ana", Target: mine.Seq, ClientID: "a-9", Text: "sneaky"}
	if _, err := s.Append(ctx, e); parley.KindOf(err) != parley.Invalid {
		t.Errorf("Append(edit) = %v, want Invalid", err)
	}
	checkEntries(t, "Entries() after refused amendments", mustAllEntries(t, s, room), log)
}

// testAmendDuplicate retries edits and deletions: each retry gets the
// entry stored first, even once the message is gone, and uses up no
// number; client ids are one namespace with messages'.
func testAmendDuplicate(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	ctx := t.Context()
	const room = parley.DefaultRoom
	m := mustAppend(t, s, room, "ana", "a-1", "hello")
	edit := mustAmend(t, s, &parley.Entry{Room: room, Kind: parley.KindEdit, From: "ana", Target: m.Seq, ClientID: "a-2", Text: "hello!"}, false)

	retry := &parley.Entry{Room: room, Kind: parley.KindEdit, From: "ana", Target: m.Seq, ClientID: "a-2", Text: "hello?"}
	if dup, err := s.Amend(ctx, retry, false); err != nil || !dup {
		t.Fatalf("Amend(retry of edit) = %v, %v; want true, nil", dup, err)
	}
	checkEntry(t, "Amend(retry of edit)", retry, edit)

	del := mustAmend(t, s, &parley.Entry{Room: room, Kind: parley.KindDelete, From: "ana", Target: m.Seq, ClientID: "a-3"}, false)
	retryDel := &parley.Entry{Room: room, Kind: parley.KindDelete, From: "ana", Target: m.Seq, ClientID: "a-3"}
	if dup, err := s.Amend(ctx, retryDel, false); err != nil || !dup {
		t.Fatalf("Amend(retry of deletion) = %v, %v; want true, nil, not already_deleted", dup, err)
	}
	checkEntry(t, "Amend(retry of deletion)", retryDel, del)

	// The edit, retried after the deletion, is the edit as it stands now.
	retry = &parley.Entry{Room: room, Kind: parley.KindEdit, From: "ana", Target: m.Seq, ClientID: "a-2", Text: "hello?"}
	if dup, err := s.Amend(ctx, retry, false); err != nil || !dup {
		t.Fatalf("Amend(retry of edit after deletion) = %v, %v; want true, nil", dup, err)
	}
	goneEdit := *edit
	goneEdit.Text, goneEdit.Deleted = "", del.Seq
	checkEntry(t, "Amend(retry of edit after deletion)", retry, &goneEdit)

	// A send with an edit's client id is a retry of the edit, and an edit
	// with a message's of the message.
	send := &parley.Entry{Room: room, Kind: parley.KindMessage, From: "ana", ClientID: "a-2", Text: "new"}
	if dup, err := s.Append(ctx, send); err != nil || !dup {
		t.Fatalf("Append(with an edit's client id) = %v, %v; want true, nil", dup, err)
	}
	checkEntry(t, "Append(with an edit's client id)", send, &goneEdit)
	m2 := mustAppend(t, s, room, "ana", "a-4", "again")
	asEdit := &parley.Entry{Room: room, Kind: parley.KindEdit, From: "ana", Target: m2.Seq, ClientID: "a-4", Text: "again!"}
	if dup, err := s.Amend(ctx, asEdit, false); err != nil || !dup {
		t.Fatalf("Amend(with a message's client id) = %v, %v; want true, nil", dup, err)
	}
	checkEntry(t, "Amend(with a message's client id)", asEdit, m2)

	// Someone else's client id is theirs alone.
	bob := mustAmend(t, s, &parley.Entry{Room: room, Kind: parley.KindDelete, From: "root", Target: m2.Seq, ClientID: "a-2"}, true)
	if bob.Seq != m2.Seq+1 {
		t.Errorf("Amend(root's a-2) set Seq %d, want %d: retries must not use up numbers", bob.Seq, m2.Seq+1)
	}
	if r, err := s.Room(ctx, room); err != nil || r.LastSeq != bob.Seq {
		t.Errorf("Room() = %+v, %v; want LastSeq %d", r, err, bob.Seq)
	}
}

// testAmendConcurrent edits one message many times while its author
// deletes it: numbers stay gapless, every edit numbered before the
// deletion is stored and every one after refused, and the message shows
// the last edit before its deletion, without text.
func testAmendConcurrent(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	const room = parley.DefaultRoom
	m := mustAppend(t, s, room, "ana", "a-0", "start")
	const edits = 40
	type result struct {
		e   *parley.Entry
		err error
	}
	results := make([]result, edits+1)
	var wg sync.WaitGroup
	for i := range edits + 1 {
		wg.Go(func() {
			e := &parley.Entry{Room: room, Kind: parley.KindEdit, From: "ana", Target: m.Seq, ClientID: fmt.Sprintf("e-%d", i), Text: fmt.Sprintf("edit %d", i)}
			if i == edits/2 {
				e = &parley.Entry{Room: room, Kind: parley.KindDelete, From: "ana", Target: m.Seq, ClientID: "del"}
			}
			_, err := s.Amend(t.Context(), e, false)
			results[i] = result{e, err}
		})
	}
	wg.Wait()

	del := results[edits/2]
	if del.err != nil {
		t.Fatalf("Amend(delete) = %v", del.err)
	}
	var lastEdit int64
	stored := 1
	for i, r := range results {
		switch {
		case i == edits/2:
		case r.err == nil && r.e.Seq < del.e.Seq:
			lastEdit = max(lastEdit, r.e.Seq)
			stored++
		case r.err == nil:
			t.Errorf("Amend(%s) = edit %d, after deletion %d", r.e.ClientID, r.e.Seq, del.e.Seq)
		case parley.CodeOf(r.err) != parley.CodeAlreadyDeleted:
			t.Errorf("Amend(%s) = %v, want success or already_deleted", r.e.ClientID, r.err)
		}
	}
	all := mustAllEntries(t, s, room)
	if len(all) != stored+1 {
		t.Errorf("Entries() has %d entries, want the message and %d amendments", len(all), stored)
	}
	for i, e := range all {
		if e.Seq != int64(i+1) {
			t.Errorf("Entries()[%d].Seq = %d, want %d", i, e.Seq, i+1)
		}
		if e.Text != "" || i > 0 && e.Kind == parley.KindEdit && e.Deleted != del.e.Seq {
			t.Errorf("Entries()[%d] = %+v, want no text, deleted by %d", i, *e, del.e.Seq)
		}
	}
	if got := all[0]; got.Edited != lastEdit || got.Deleted != del.e.Seq {
		t.Errorf("Entries()[0] = %+v, want edited %d and deleted %d", *got, lastEdit, del.e.Seq)
	}
}

// mustAmend stores a new edit or deletion and returns it as stored.
func mustAmend(t testing.TB, s parley.Store, e *parley.Entry, admin bool) *parley.Entry {
	t.Helper()
	dup, err := s.Amend(t.Context(), e, admin)
	if err != nil || dup {
		t.Fatalf("Amend(%+v, admin %v) = %v, %v; want false, nil", *e, admin, dup, err)
	}
	return e
}
