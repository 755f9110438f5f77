package hub

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/parley-chat/parley"
)

func isAmendment(kind parley.EntryKind, target int64) func(event) bool {
	return func(e event) bool { return e.Type == string(kind) && e.Target == target }
}

// connectAs connects the person id names and starts draining the client.
func (f *fixture) connectAs(t *testing.T, id Identity) (*Client, *probe) {
	t.Helper()
	p := newProbe()
	c, err := f.hub.ConnectAs(id, p)
	if err != nil {
		t.Fatalf("ConnectAs(%+v) = %v", id, err)
	}
	p.start(t, c)
	t.Cleanup(c.Disconnect)
	return c, p
}

// TestEditAndDelete edits and deletes a message as its author, others and
// an administrator would: what may be done is acknowledged and fanned out
// to the room as entries; what may not gets its error and reaches nobody.
func TestEditAndDelete(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{})
		ctx := context.Background()
		ana, pa := f.connect(t, "ana")
		bob, pb := f.connect(t, "bob")
		root, _ := f.connectAs(t, Identity{Nick: "root", Session: "s-root", Admin: true})
		for _, c := range []*Client{ana, bob, root} {
			mustJoin(t, c, "general", nil)
		}
		m := mustSend(t, ana, "general", "a-1", "helo")
		pb.next(t, "ana's message", isMessage("helo"))

		edit, err := ana.Edit(ctx, "general", "a-2", m.Seq, "hello")
		if err != nil {
			t.Fatalf("Edit() = %v", err)
		}
		if edit.Seq != m.Seq+1 || edit.Kind != parley.KindEdit || edit.Target != m.Seq {
			t.Errorf("Edit() = %+v, want the next entry, an edit of %d", *edit, m.Seq)
		}
		ack := pa.next(t, "the edit's ack", isType("ack"))
		for ack.ClientID != "a-2" {
			ack = pa.next(t, "the edit's ack", isType("ack"))
		}
		if ack.Seq != edit.Seq {
			t.Errorf("ack = %+v, want seq %d", ack, edit.Seq)
		}
		pa.next(t, "the own edit", isAmendment(parley.KindEdit, m.Seq))
		got := pb.next(t, "the edit", isAmendment(parley.KindEdit, m.Seq))
		if got.Seq != edit.Seq || got.From != "ana" || got.Text != "hello" {
			t.Errorf("bob got %+v, want edit %d of ana's, with its text", got, edit.Seq)
		}

		// Someone else may neither edit nor delete it, and an
		// administrator may only delete it.
		refused := []struct {
			name string
			do   func() (*parley.Entry, error)
		}{
			{"bob's edit", func() (*parley.Entry, error) { return bob.Edit(ctx, "general", "b-1", m.Seq, "mine now") }},
			{"bob's deletion", func() (*parley.Entry, error) { return bob.Delete(ctx, "general", "b-2", m.Seq) }},
			{"an administrator's edit", func() (*parley.Entry, error) { return root.Edit(ctx, "general", "r-1", m.Seq, "censored") }},
		}
		for _, r := range refused {
			if _, err := r.do(); parley.CodeOf(err) != parley.CodeNotYours {
				t.Errorf("%s = %v, want not_yours", r.name, err)
			}
		}
		pa.none(t, "from a refused amendment", isType("edit", "delete"))

		del, err := root.Delete(ctx, "general", "r-2", m.Seq)
		if err != nil {
			t.Fatalf("Delete() by an administrator = %v", err)
		}
		for _, p := range []*probe{pa, pb} {
			got := p.next(t, "the deletion", isAmendment(parley.KindDelete, m.Seq))
			if got.Seq != del.Seq || got.From != "root" || got.Text != "" {
				t.Errorf("%s got %+v, want deletion %d by root, without text", p.c.Nick(), got, del.Seq)
			}
		}
		if _, err := ana.Edit(ctx, "general", "a-3", m.Seq, "hello?"); parley.CodeOf(err) != parley.CodeAlreadyDeleted {
			t.Errorf("Edit() of a deleted message = %v, want already_deleted", err)
		}
		if _, err := ana.Delete(ctx, "general", "a-4", m.Seq); parley.CodeOf(err) != parley.CodeAlreadyDeleted {
			t.Errorf("Delete() of a deleted message = %v, want already_deleted", err)
		}
		pb.none(t, "from a refused amendment", isType("edit", "delete"))
	})
}

// TestAmendmentsAreReplayed resumes after missing an edit and a deletion:
// the replay brings both, without the deleted text; and a client that
// reads the whole log gets the message as a tombstone.
func TestAmendmentsAreReplayed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{})
		ctx := context.Background()
		ana, _ := f.connect(t, "ana")
		mustJoin(t, ana, "general", nil)
		m := mustSend(t, ana, "general", "a-1", "secret")
		if _, err := ana.Edit(ctx, "general", "a-2", m.Seq, "more secret"); err != nil {
			t.Fatal(err)
		}
		if _, err := ana.Delete(ctx, "general", "a-3", m.Seq); err != nil {
			t.Fatal(err)
		}

		bob, pb := f.connect(t, "bob")
		mustJoin(t, bob, "general", ptr(m.Seq))
		edit := pb.next(t, "the edit", isAmendment(parley.KindEdit, m.Seq))
		del := pb.next(t, "the deletion", isAmendment(parley.KindDelete, m.Seq))
		if edit.Text != "" || edit.Deleted != del.Seq || del.Seq != edit.Seq+1 {
			t.Errorf("replay = %+v, %+v; want the edit without its text, marked deleted by the deletion after it", edit, del)
		}

		cy, pc := f.connect(t, "cy")
		mustJoin(t, cy, "general", ptr(0))
		got := pc.next(t, "the message", isType("message"))
		if got.Seq != m.Seq || got.Text != "" || got.Edited != edit.Seq || got.Deleted != del.Seq {
			t.Errorf("replay from 0 = %+v, want message %d as a tombstone, edited %d, deleted %d", got, m.Seq, edit.Seq, del.Seq)
		}
	})
}

// TestAmendIsIdempotent retries an edit and a deletion: each retry is
// acknowledged with the original's number, and stores nothing.
func TestAmendIsIdempotent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Options{})
		ctx := context.Background()
		ana, _ := f.connect(t, "ana")
		mustJoin(t, ana, "general", nil)
		m := mustSend(t, ana, "general", "a-1", "one")
		edit, err := ana.Edit(ctx, "general", "a-2", m.Seq, "two")
		if err != nil {
			t.Fatal(err)
		}
		del, err := ana.Delete(ctx, "general", "a-3", m.Seq)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ana.Edit(ctx, "general", "a-2", m.Seq, "two")
		if err != nil || again.Seq != edit.Seq {
			t.Errorf("Edit() retried = %+v, %v; want the original, %d", again, err, edit.Seq)
		}
		againDel, err := ana.Delete(ctx, "general", "a-3", m.Seq)
		if err != nil || againDel.Seq != del.Seq {
			t.Errorf("Delete() retried = %+v, %v; want the original, %d", againDel, err, del.Seq)
		}
		if r, err := f.store.Room(ctx, "general"); err != nil || r.LastSeq != del.Seq {
			t.Errorf("Room() = %+v, %v; want LastSeq %d: retries store nothing", r, err, del.Seq)
		}
	})
}

func TestAmendErrors(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	ana, _ := f.connect(t, "ana")
	mustJoin(t, ana, "general", nil)
	tests := []struct {
		name, room, clientID string
		seq                  int64
		code                 string
	}{
		{"room not joined", "elsewhere", "c1", 1, "not_joined"},
		{"no target", "general", "c2", 0, parley.CodeInvalidTarget},
		{"a join", "general", "c3", 1, parley.CodeNoMessage},
		{"beyond the log", "general", "c4", 99, parley.CodeNoMessage},
		{"no client id", "general", "", 1, "invalid_client_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ana.Edit(ctx, tt.room, tt.clientID, tt.seq, "text"); parley.CodeOf(err) != tt.code {
				t.Errorf("Edit() = %v (code %s), want code %s", err, parley.CodeOf(err), tt.code)
			}
			if _, err := ana.Delete(ctx, tt.room, tt.clientID, tt.seq); parley.CodeOf(err) != tt.code {
				t.Errorf("Delete() = %v (code %s), want code %s", err, parley.CodeOf(err), tt.code)
			}
		})
	}
	if r, err := f.store.Room(ctx, "general"); err != nil || r.LastSeq != 1 {
		t.Errorf("Room() = %+v, %v; want LastSeq 1 (ana's join) after refused amendments", r, err)
	}
}
