package httpapi_test

import (
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/httpapi"
)

// amend writes an edit (with text) or a delete frame and returns the
// server's answer to it: its ack or its error.
func (c *client) amend(typ, room string, seq int64, clientID, text string) event {
	c.t.Helper()
	f := map[string]any{"type": typ, "room": room, "seq": seq, "clientId": clientID}
	if typ == "edit" {
		f["text"] = text
	}
	c.writeJSON(f)
	return c.waitFor("answer to "+clientID, func(e event) bool {
		return (e.Type == "ack" || e.Type == "error") && e.ClientID == clientID
	})
}

// TestEditAndDelete edits and deletes messages over the WebSocket as their
// author, someone else and an administrator: each amendment is acked and
// reaches the room as an entry, each refusal is an error that changes
// nothing, and REST history shows the message as it stands, its text gone
// once deleted.
func TestEditAndDelete(t *testing.T) {
	t.Parallel()
	ts := accountServer(t, httpapi.Options{})
	rootHeader := ts.signUp(t, "root", "correct horse") // the first account: an administrator
	conn, _, err := dial(ts, rootHeader)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	root := &client{t: t, conn: conn}
	root.writeJSON(map[string]any{"type": "hello", "v": 1})
	root.nick = root.waitType("welcome").Nick
	ana := mustGreet(t, ts, "ana")
	bob := mustGreet(t, ts, "bob")
	for _, c := range []*client{root, ana, bob} {
		c.joinLive("general")
	}

	m := ana.send("general", "a-1", "helo").Seq
	ack := ana.amend("edit", "general", m, "a-2", "hello")
	if ack.Type != "ack" || ack.Seq != m+1 {
		t.Fatalf("edit of %d = %v, want ack of entry %d", m, ack, m+1)
	}
	if e := bob.waitEntry("general", m+1); e.Type != "edit" || e.Target != m || e.From != "ana" || e.Text != "hello" || e.ClientID != "a-2" {
		t.Errorf("bob got %v, want ana's edit of %d", e, m)
	}
	if again := ana.amend("edit", "general", m, "a-2", "hello"); again.Type != "ack" || again.Seq != ack.Seq {
		t.Errorf("retried edit = %v, want the original ack %d", again, ack.Seq)
	}

	refused := []struct {
		who        *client
		typ        string
		seq        int64
		clientID   string
		text, code string
	}{
		{bob, "edit", m, "b-1", "mine now", parley.CodeNotYours},
		{bob, "delete", m, "b-2", "", parley.CodeNotYours},
		{root, "edit", m, "r-1", "censored", parley.CodeNotYours},
		{ana, "edit", m - 1, "a-3", "a join", parley.CodeNoMessage},
		{ana, "delete", 0, "a-4", "", parley.CodeInvalidTarget},
		{ana, "edit", m, "a-5", " ", parley.CodeEmptyMessage},
	}
	for _, r := range refused {
		if e := r.who.amend(r.typ, "general", r.seq, r.clientID, r.text); e.Type != "error" || e.Code != r.code || e.Room != "general" || e.Message == "" {
			t.Errorf("%s %s of %d = %v, want error %s", r.clientID, r.typ, r.seq, e, r.code)
		}
	}

	del := root.amend("delete", "general", m, "r-2", "")
	if del.Type != "ack" || del.Seq != m+2 {
		t.Fatalf("an administrator's delete of %d = %v, want ack of entry %d: the refusals stored nothing", m, del, m+2)
	}
	for _, c := range []*client{ana, bob} {
		if e := c.waitEntry("general", del.Seq); e.Type != "delete" || e.Target != m || e.From != "root" || e.Text != "" {
			t.Errorf("got %v, want root's deletion of %d", e, m)
		}
	}
	if e := ana.amend("edit", "general", m, "a-6", "back"); e.Type != "error" || e.Code != parley.CodeAlreadyDeleted {
		t.Errorf("edit of a deleted message = %v, want already_deleted", e)
	}

	hist := ts.history(t, "general")
	byseq := map[int64]*parley.Entry{}
	for _, e := range hist {
		byseq[e.Seq] = e
	}
	if e := byseq[m]; e == nil || e.Kind != parley.KindMessage || e.Text != "" || e.Edited != m+1 || e.Deleted != m+2 {
		t.Errorf("history's message %d = %+v, want a tombstone, edited by %d, deleted by %d", m, e, m+1, m+2)
	}
	if e := byseq[m+1]; e == nil || e.Kind != parley.KindEdit || e.Text != "" || e.Target != m || e.Deleted != m+2 {
		t.Errorf("history's edit %d = %+v, want the edit of %d without its text", m+1, e, m)
	}
	if len(hist) == 0 || hist[len(hist)-1].Seq != m+2 {
		t.Errorf("history ends at %v, want the deletion %d last: refusals store nothing", seqsOf(hist), m+2)
	}
}

func seqsOf(entries []*parley.Entry) []int64 {
	var s []int64
	for _, e := range entries {
		s = append(s, e.Seq)
	}
	return s
}
