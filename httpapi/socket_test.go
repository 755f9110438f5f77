package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/httpapi"
	"github.com/parley-chat/parley/protocol"
)

func TestHelloWelcome(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{})
	c := mustDial(t, ts)

	w := c.hello("ana", "")
	if w.V != 1 || w.Nick != "ana" || w.Session == "" {
		t.Errorf("hello as ana: got %v, want v 1, nick ana and a session", w)
	}
	want := &protocol.Limits{MaxTextBytes: 4096, MaxFrameBytes: 16384, MaxNickLength: 32, MaxRoomLength: 64}
	if !reflect.DeepEqual(w.Limits, want) {
		t.Errorf("welcome limits = %v, want %v", w.Limits, want)
	}
	c.ping()
}

func TestJoinAndChat(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{})
	ana := mustGreet(t, ts, "ana")
	bob := mustGreet(t, ts, "bob")

	joined, entry := ana.joinLive("general")
	if joined.LastSeq != 0 || !slices.Equal(joined.Online, []string{"ana"}) {
		t.Errorf("ana joins general: got %v, want lastSeq 0, online [ana]", joined)
	}
	if entry.Seq != 1 || entry.From != "ana" || entry.At.IsZero() {
		t.Errorf("ana's join entry = %v, want seq 1 from ana, with at", entry)
	}

	joined, _ = bob.joinLive("general")
	if joined.LastSeq != 1 || !slices.Equal(joined.Online, []string{"ana", "bob"}) {
		t.Errorf("bob joins general: got %v, want lastSeq 1, online [ana bob]", joined)
	}
	if e := ana.waitEntry("general", 2); e.Type != "join" || e.From != "bob" {
		t.Errorf("ana got %v, want bob's join entry", e)
	}
	ana.waitFor("bob online", func(e event) bool { return e.says("bob", true) })

	// Both ways: the sender gets an ack and its own message, the other the
	// message, each with the same seq.
	chat := []struct {
		from, to *client
		nick     string
		clientID string
		text     string
	}{
		{ana, bob, "ana", "a-1", "Hello, bob"},
		{bob, ana, "bob", "b-1", "Hello, ana"},
		{ana, bob, "ana", "a-2", "How are you? 👋"},
	}
	for i, m := range chat {
		seq := int64(3 + i)
		ack := m.from.send("general", m.clientID, m.text)
		if ack.Seq != seq || ack.At.IsZero() {
			t.Errorf("%s sends %q: got %v, want ack with seq %d and at", m.nick, m.clientID, ack, seq)
		}
		for _, c := range []*client{m.from, m.to} {
			e := c.waitEntry("general", seq)
			if e.Type != "message" || e.From != m.nick || e.Text != m.text || e.ClientID != m.clientID {
				t.Errorf("got %v, want message %d from %s: %q (%s)", e, seq, m.nick, m.text, m.clientID)
			}
			if !sameTime(e.At, ack.At) {
				t.Errorf("message %d at %q, ack at %q, want the same time", seq, e.At, ack.At)
			}
		}
	}

	// Each saw every entry from the moment it joined, once, in order.
	if got, want := seqs(ana.entries("general")), []int64{1, 2, 3, 4, 5}; !slices.Equal(got, want) {
		t.Errorf("ana received entries %v, want %v", got, want)
	}
	if got, want := seqs(bob.entries("general")), []int64{2, 3, 4, 5}; !slices.Equal(got, want) {
		t.Errorf("bob received entries %v, want %v", got, want)
	}

	// What the sockets saw is the log that REST serves.
	hist := ts.history(t, "general")
	if len(hist) != 5 {
		t.Fatalf("history of general has %d entries, want 5", len(hist))
	}
	for i, e := range ana.entries("general") {
		h := hist[i]
		if h.Seq != e.Seq || string(h.Kind) != e.Type || h.From != e.From || h.Text != e.Text || h.ClientID != e.ClientID {
			t.Errorf("history entry %+v, socket entry %v, want the same", h, e)
		}
		if !sameTime(e.At, h.At) {
			t.Errorf("entry %d at %q on the socket, %v over REST, want the same time", e.Seq, e.At, h.At)
		}
	}
}

func TestTypingAndPing(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{})
	ana := mustGreet(t, ts, "ana")
	bob := mustGreet(t, ts, "bob")
	ana.joinLive("general")
	bob.joinLive("general")

	// The second notice comes too soon after the first to be relayed.
	bob.write(`{"type":"typing","room":"general"}`)
	bob.write(`{"type":"typing","room":"general"}`)
	bob.ping() // typing has no answer
	ack := bob.send("general", "b-1", "done typing")
	e := ana.waitType("typing")
	if e.Room != "general" || e.From != "bob" {
		t.Errorf("ana got %v, want bob typing in general", e)
	}
	ana.waitEntry("general", ack.Seq)
	n := 0
	for _, e := range ana.seen {
		if e.Type == "typing" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("ana got %d typing events for two notices in a row, want 1", n)
	}
	// Only the others get the typing event.
	bob.waitEntry("general", ack.Seq)
	for _, e := range bob.seen {
		if e.Type == "typing" {
			t.Errorf("bob got %v, want no typing event for his own notice", e)
		}
	}
}

func TestJoinSinceReplays(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{})
	ana := mustGreet(t, ts, "ana")
	ana.joinLive("general") // seq 1
	for i := range 5 {
		ana.send("general", fmt.Sprintf("a-%d", i), fmt.Sprintf("message %d", i)) // seqs 2 to 6
	}

	tests := []struct {
		nick  string
		since int64
	}{
		{"bob", 3},   // the entries after 3
		{"carol", 0}, // the whole log
		{"dan", -1},  // the newest entry, filled in below: nothing to replay
	}
	for _, tt := range tests {
		last := ts.room(t, "general").LastSeq
		since := tt.since
		if since < 0 {
			since = last
		}
		c := mustGreet(t, ts, tt.nick)
		joined := c.join("general", &since)
		if joined.LastSeq != last {
			t.Errorf("%s joins since %d: lastSeq %d, want %d", tt.nick, since, joined.LastSeq, last)
		}
		own := c.waitEntry("general", last+1) // the join entry comes live, after the replay
		if own.Type != "join" || own.From != tt.nick {
			t.Errorf("%s got %v, want its join entry", tt.nick, own)
		}
		var want []int64
		for seq := since + 1; seq <= last+1; seq++ {
			want = append(want, seq)
		}
		if got := seqs(c.entries("general")); !slices.Equal(got, want) {
			t.Errorf("%s joins since %d: received entries %v, want %v", tt.nick, since, got, want)
		}
		if i := slices.IndexFunc(c.seen, event.IsEntry); i >= 0 && i < slices.IndexFunc(c.seen, func(e event) bool { return e.Type == "joined" }) {
			t.Errorf("%s received %v before joined", tt.nick, c.seen[i])
		}
		hist := ts.history(t, "general")
		for _, e := range c.entries("general") {
			h := hist[e.Seq-1]
			if h.Seq != e.Seq || string(h.Kind) != e.Type || h.From != e.From || h.Text != e.Text || h.ClientID != e.ClientID {
				t.Errorf("%s received %v; history has %+v", tt.nick, e, h)
			}
		}

		// Then live.
		ack := ana.send("general", "after-"+tt.nick, "and now live")
		if e := c.waitEntry("general", ack.Seq); e.Text != "and now live" {
			t.Errorf("%s got %v, want ana's live message", tt.nick, e)
		}
	}
}

// TestJoinWhileOthersSend joins while others keep sending: the replay and
// the live entries that follow it join up with no gap and no duplicate.
func TestJoinWhileOthersSend(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{})
	senders := []*client{mustGreet(t, ts, "ana"), mustGreet(t, ts, "carol")}
	for _, c := range senders {
		c.joinLive("general")
	}
	const n = 30 // within the burst of frames one connection may send
	for i := range n {
		for j, c := range senders {
			c.writeJSON(map[string]any{"type": "send", "room": "general", "clientId": fmt.Sprintf("%d-%d", j, i), "text": "busy"})
		}
	}

	// While those are stored, bob joins with the whole log, dan without.
	bob := mustGreet(t, ts, "bob")
	bob.join("general", ptr(int64(0)))
	dan := mustGreet(t, ts, "dan")
	danJoined := dan.join("general", nil)

	for i := range n {
		for j, c := range senders {
			id := fmt.Sprintf("%d-%d", j, i)
			c.waitFor("ack of "+id, func(e event) bool { return e.Type == "ack" && e.ClientID == id })
		}
	}
	readers := []struct {
		c     *client
		nick  string
		first int64 // the first entry it must receive
	}{
		{bob, "bob", 1},
		{dan, "dan", danJoined.LastSeq + 1},
	}
	for _, tt := range readers {
		tt.c.waitFor(tt.nick+"'s join entry", func(e event) bool { return e.IsEntry() && e.Type == "join" && e.From == tt.nick })
	}
	last := ts.room(t, "general").LastSeq
	for _, tt := range readers {
		if got := tt.c.entries("general"); len(got) == 0 || got[len(got)-1].Seq < last {
			tt.c.waitEntry("general", last)
		}
		var want []int64
		for seq := tt.first; seq <= last; seq++ {
			want = append(want, seq)
		}
		if got := seqs(tt.c.entries("general")); !slices.Equal(got, want) {
			t.Errorf("%s received entries %v, want %v", tt.nick, got, want)
		}
	}
}

// TestJoinSinceLongLog replays more entries than one read of the store
// returns.
func TestJoinSinceLongLog(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{})
	const n = 450
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			e := &parley.Entry{Room: "general", Kind: parley.KindMessage, From: "ana", ClientID: fmt.Sprintf("c-%d", i), Text: "old"}
			if _, err := ts.store.Append(context.Background(), e); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Append() = %v", err)
	}

	for _, since := range []int64{10, 0} {
		t.Run(fmt.Sprintf("since %d", since), func(t *testing.T) {
			nick := fmt.Sprintf("reader%d", since)
			c := mustGreet(t, ts, nick)
			joined := c.join("general", &since)
			c.waitFor("own join entry", func(e event) bool { return e.IsEntry() && e.Type == "join" && e.From == nick })
			var want []int64
			for seq := since + 1; seq <= joined.LastSeq+1; seq++ {
				want = append(want, seq)
			}
			if got := seqs(c.entries("general")); !slices.Equal(got, want) {
				t.Errorf("join since %d: received %d entries %v…, want %d entries %d to %d",
					since, len(got), got[:min(len(got), 5)], len(want), since+1, joined.LastSeq+1)
			}
		})
	}
}

func TestSendRetry(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{})
	ana := mustGreet(t, ts, "ana")
	bob := mustGreet(t, ts, "bob")
	ana.joinLive("general")
	bob.joinLive("general")

	first := ana.send("general", "r-1", "only once")
	again := ana.send("general", "r-1", "only once")
	if again.Seq != first.Seq || !sameTime(again.At, first.At) {
		t.Errorf("retried send: ack %v, want the original %v", again, first)
	}
	next := ana.send("general", "r-2", "next")
	if next.Seq != first.Seq+1 {
		t.Errorf("send after a retry: seq %d, want %d", next.Seq, first.Seq+1)
	}
	bob.waitEntry("general", next.Seq)
	ana.waitEntry("general", next.Seq)
	for _, c := range []*client{ana, bob} {
		got := seqs(c.entries("general"))
		if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Errorf("received entries %v, want each once, in order", got)
		}
	}
	if n := countClientID(ts.history(t, "general"), "ana", "r-1"); n != 1 {
		t.Errorf("history holds %d messages r-1 from ana, want 1", n)
	}
}

func TestSendRetryAfterReconnect(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{})
	c := mustDial(t, ts)
	w := c.hello("ana", "")
	c.joinLive("general")
	first := c.send("general", "r-1", "sent before the drop")
	c.conn.Close()

	c = mustDial(t, ts)
	c.hello("ana", w.Session)
	last := first.Seq
	c.join("general", &last)
	again := c.send("general", "r-1", "sent before the drop")
	if again.Seq != first.Seq {
		t.Errorf("resent after reconnecting: seq %d, want the original %d", again.Seq, first.Seq)
	}
	if n := countClientID(ts.history(t, "general"), "ana", "r-1"); n != 1 {
		t.Errorf("history holds %d messages r-1 from ana, want 1", n)
	}
}

func TestSession(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{})
	tab1 := mustDial(t, ts)
	w := tab1.hello("ana", "")

	// Someone else cannot take the nickname, with or without a session,
	// nor choose a token of their own.
	eve := mustDial(t, ts)
	for _, tt := range []struct{ nick, session, code string }{
		{"ana", "", "nickname_taken"},
		{"ANA", "", "nickname_taken"},
		{"ana", "not-the-session", "invalid_session"},
		{"ana", w.Session + "x", "invalid_session"},
		{"eve", "aaaaaaaaaaaaaaaaaaaaaa", "invalid_session"},
		{"eve", w.Session, "invalid_session"}, // ana's session, another name
	} {
		eve.writeJSON(map[string]any{"type": "hello", "v": 1, "nick": tt.nick, "session": tt.session})
		eve.waitError(tt.code)
	}
	eve.hello("eve", "") // a refused hello does not end the connection

	// The same person, in another tab.
	tab2 := mustDial(t, ts)
	w2 := tab2.hello("ana", w.Session)
	if w2.Nick != "ana" || w2.Session != w.Session {
		t.Errorf("hello as ana with the session: got %v, want nick ana and the same session", w2)
	}
	tab1.joinLive("general")
	joined := tab2.join("general", nil)
	if !slices.Equal(joined.Online, []string{"ana"}) {
		t.Errorf("second tab joins: online %v, want [ana]", joined.Online)
	}
	bob := mustGreet(t, ts, "bob")
	bob.joinLive("general")

	ack := bob.send("general", "b-1", "hi ana")
	for _, tab := range []*client{tab1, tab2} {
		if e := tab.waitEntry("general", ack.Seq); e.From != "bob" {
			t.Errorf("ana's tab got %v, want bob's message", e)
		}
	}
	ack = tab1.send("general", "a-1", "from tab 1")
	if e := tab2.waitEntry("general", ack.Seq); e.From != "ana" || e.ClientID != "a-1" {
		t.Errorf("tab 2 got %v, want tab 1's message", e)
	}

	// One tab leaves; ana is still in the room through the other.
	tab1.write(`{"type":"leave","room":"general"}`)
	tab1.waitType("left")
	ack = bob.send("general", "b-2", "still there?")
	tab2.waitEntry("general", ack.Seq)

	joins, leaves := 0, 0
	for _, e := range ts.history(t, "general") {
		switch {
		case e.Kind == parley.KindJoin && e.From == "ana":
			joins++
		case e.Kind == parley.KindLeave && e.From == "ana":
			leaves++
		}
	}
	if joins != 1 || leaves != 0 {
		t.Errorf("history holds %d join and %d leave entries of ana, want 1 and 0: two tabs are one member", joins, leaves)
	}
	if n := ts.room(t, "general").Online; n != 2 {
		t.Errorf("GET /api/rooms: general has %d online, want 2", n)
	}
}

// TestSessionOutlivesRestart: a session is the store's, so after a restart
// its nickname is still its owner's, and nobody else's.
func TestSessionOutlivesRestart(t *testing.T) {
	t.Parallel()
	database := filepath.Join(t.TempDir(), "parley.db")
	ts := newTestServer(t, serverConfig{database: database})
	ana := mustDial(t, ts)
	w := ana.hello("ana", "")
	ana.conn.Close()
	ts.waitIdle(t)
	if err := ts.store.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}

	ts = newTestServer(t, serverConfig{database: database})
	mallory := mustDial(t, ts)
	mallory.writeJSON(map[string]any{"type": "hello", "v": 1, "nick": "ana"})
	mallory.waitError("nickname_taken")
	ana = mustDial(t, ts)
	// The session alone names its person.
	ana.writeJSON(map[string]any{"type": "hello", "v": 1, "session": w.Session})
	if got := ana.waitType("welcome"); got.Nick != "ana" || got.Session != w.Session {
		t.Errorf("hello with ana's session after a restart: got %v, want ana's welcome with the same session", got)
	}
}

// TestSignOut ends a session from one of two tabs: both close with 1000,
// ana leaves the room at once, her token is dead and her name is free.
func TestSignOut(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{}) // a grace of a minute
	bob := mustGreet(t, ts, "bob")
	bob.joinLive("general")
	tab1 := mustDial(t, ts)
	w := tab1.hello("ana", "")
	tab1.joinLive("general")
	tab2 := mustDial(t, ts)
	tab2.hello("ana", w.Session)
	tab2.join("general", nil)

	tab1.write(`{"type":"signout"}`)
	tab1.waitClose(websocket.CloseNormalClosure)
	tab2.waitClose(websocket.CloseNormalClosure)
	e := bob.waitFor("ana's leave entry", func(e event) bool { return e.IsEntry() && e.Type == "leave" })
	if e.From != "ana" {
		t.Errorf("bob got %v, want ana's leave entry", e)
	}
	bob.waitFor("ana offline", func(e event) bool { return e.says("ana", false) })

	again := mustDial(t, ts)
	again.writeJSON(map[string]any{"type": "hello", "v": 1, "nick": "ana", "session": w.Session})
	again.waitError("invalid_session")
	if w2 := again.hello("ana", ""); w2.Session == w.Session {
		t.Errorf("hello as ana after signout = session %q, want a new one", w2.Session)
	}
}

// TestReconnectWithinGrace reconnects as the same person before the grace
// period ends: the others see no leave, offline, join or online for it.
func TestReconnectWithinGrace(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{})
	bob := mustGreet(t, ts, "bob")
	bob.joinLive("general")
	ana := mustDial(t, ts)
	w := ana.hello("ana", "")
	_, own := ana.joinLive("general")
	ana.conn.Close()

	ana = mustDial(t, ts)
	ana.hello("ana", w.Session)
	joined := ana.join("general", &own.Seq)
	if !slices.Equal(joined.Online, []string{"ana", "bob"}) {
		t.Errorf("ana rejoins: online %v, want [ana bob]", joined.Online)
	}
	ack := ana.send("general", "a-1", "back")
	bob.waitEntry("general", ack.Seq)
	bob.waitFor("ana online", func(e event) bool { return e.says("ana", true) })
	online := 0
	for _, e := range bob.seen {
		switch {
		case e.says("ana", true):
			online++
		case e.says("ana", false) || e.Type == "leave" || e.Type == "join" && e.From == "ana" && e.Seq != own.Seq:
			t.Errorf("bob got %v while ana reconnected within the grace period", e)
		}
	}
	if online != 1 {
		t.Errorf("bob got %d online events for ana, want 1", online)
	}
	if got := seqs(bob.entries("general")); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Errorf("bob received entries %v, want [1 2 3]: his join, ana's, her message", got)
	}
}

// TestGracePeriodEnds closes a connection for good: after the grace period
// the person goes offline and leaves the room.
func TestGracePeriodEnds(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{grace: 50 * time.Millisecond})
	bob := mustGreet(t, ts, "bob")
	bob.joinLive("general")
	ana := mustGreet(t, ts, "ana")
	ana.joinLive("general")
	ana.conn.Close()

	bob.waitFor("ana offline", func(e event) bool { return e.says("ana", false) })
	e := bob.waitFor("ana's leave entry", func(e event) bool { return e.IsEntry() && e.Type == "leave" })
	if e.From != "ana" || e.Seq != 3 {
		t.Errorf("bob got %v, want ana's leave entry, seq 3", e)
	}
	if r := ts.room(t, "general"); r.Online != 1 || r.LastSeq != 3 {
		t.Errorf("GET /api/rooms: general is %+v, want online 1, lastSeq 3", r)
	}
}

func TestGuestsDisabled(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{noGuests: true})
	c := mustDial(t, ts)
	c.write(`{"type":"hello","v":1,"nick":"ana"}`)
	c.waitError("guests_disabled")
}

func TestLeave(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{})
	ana := mustGreet(t, ts, "ana")
	bob := mustGreet(t, ts, "bob")
	ana.joinLive("general")
	bob.joinLive("general")

	ana.write(`{"type":"leave","room":"general"}`)
	if e := ana.waitType("left"); e.Room != "general" {
		t.Errorf("leave general: got %v, want left general", e)
	}
	e := bob.waitFor("ana's leave entry", func(e event) bool { return e.IsEntry() && e.Type == "leave" })
	if e.From != "ana" {
		t.Errorf("bob got %v, want ana's leave entry", e)
	}
	bob.waitFor("ana offline", func(e event) bool { return e.says("ana", false) })

	ana.write(`{"type":"send","room":"general","clientId":"a-1","text":"still here?"}`)
	if e := ana.waitError("not_joined"); e.ClientID != "a-1" || e.Room != "general" {
		t.Errorf("send after leaving: got %v, want the error to name room general and clientId a-1", e)
	}
	ana.write(`{"type":"leave","room":"general"}`)
	ana.waitError("not_joined")

	hist := ts.history(t, "general")
	if last := hist[len(hist)-1]; last.Kind != parley.KindLeave || last.From != "ana" || last.Seq != e.Seq {
		t.Errorf("newest entry of general = %+v, want ana's leave, seq %d", last, e.Seq)
	}
	if n := ts.room(t, "general").Online; n != 1 {
		t.Errorf("GET /api/rooms: general has %d online, want 1 (bob)", n)
	}

	// Joining again makes ana a member again.
	ana.joinLive("general")

	// A room nobody is in any more is joined again as any other.
	_, first := ana.joinLive("solo")
	ana.write(`{"type":"leave","room":"solo"}`)
	ana.waitType("left")
	joined := ana.join("solo", ptr(int64(0)))
	if joined.LastSeq != first.Seq+1 || !slices.Equal(joined.Online, []string{"ana"}) {
		t.Errorf("ana joins solo again: got %v, want lastSeq %d, online [ana]", joined, first.Seq+1)
	}
	again := ana.waitEntry("solo", joined.LastSeq+1)
	if again.Type != "join" || again.From != "ana" {
		t.Errorf("ana joins solo again: got %v, want her join entry", again)
	}
	var kinds []string
	for _, e := range ana.entries("solo") {
		kinds = append(kinds, e.Type)
	}
	if want := []string{"join", "join", "leave", "join"}; !slices.Equal(kinds, want) {
		t.Errorf("ana received entries of solo %q, want %q: the first join live, then the replay, then the new join", kinds, want)
	}
}

// TestBadFrames sends every kind of bad frame of docs/PROTOCOL.md and
// checks that each gets its error, that the connection still works, and
// that nothing changed.
func TestBadFrames(t *testing.T) {
	t.Parallel()
	const (
		connected = iota // before hello
		greeted          // after hello
		joined           // after hello and joining general
	)
	longText := strings.Repeat("é", 2048) + "x" // 4097 bytes
	tests := []struct {
		name  string
		state int
		frame string
		code  string
		// echo is true when the error must name the frame's room and
		// clientId.
		echo bool
	}{
		{"malformed JSON", greeted, `{"type":"ping"`, "bad_json", false},
		{"malformed JSON before hello", connected, `hello`, "bad_json", false},
		{"array", greeted, `[{"type":"ping"}]`, "bad_json", false},
		{"string", greeted, `"ping"`, "bad_json", false},
		{"number", greeted, `42`, "bad_json", false},
		{"null", greeted, `null`, "bad_json", false},
		{"empty", greeted, ``, "bad_json", false},
		{"trailing garbage", greeted, `{"type":"ping"} {"type":"ping"}`, "bad_json", false},
		{"since not a number", greeted, `{"type":"join","room":"general","since":"x"}`, "bad_json", false},
		{"v not a number", connected, `{"type":"hello","v":"1","nick":"ana"}`, "bad_json", false},
		{"text not a string", joined, `{"type":"send","room":"general","clientId":"c-1","text":42}`, "bad_json", false},
		{"unknown type", greeted, `{"type":"dance"}`, "unknown_type", false},
		{"missing type", greeted, `{"room":"general"}`, "unknown_type", false},
		{"invalid UTF-8", joined, "{\"type\":\"send\",\"room\":\"general\",\"clientId\":\"c-1\",\"text\":\"\xff\xfe\"}", "invalid_utf8", false},
		{"invalid UTF-8 before hello", connected, "{\"type\":\"hello\",\"v\":1,\"nick\":\"\xc3\x28\"}", "invalid_utf8", false},
		{"join before hello", connected, `{"type":"join","room":"general"}`, "hello_required", false},
		{"ping before hello", connected, `{"type":"ping"}`, "hello_required", false},
		{"second hello", greeted, `{"type":"hello","v":1,"nick":"someone"}`, "already_greeted", false},
		{"version 2", connected, `{"type":"hello","v":2,"nick":"ana"}`, "unsupported_version", false},
		{"no version", connected, `{"type":"hello","nick":"ana"}`, "unsupported_version", false},
		{"no nick", connected, `{"type":"hello","v":1}`, "invalid_nick", false},
		{"nick too long", connected, `{"type":"hello","v":1,"nick":"` + strings.Repeat("n", 33) + `"}`, "invalid_nick", false},
		{"nick with leading space", connected, `{"type":"hello","v":1,"nick":" ana"}`, "invalid_nick", false},
		{"nick with two spaces", connected, `{"type":"hello","v":1,"nick":"a  b"}`, "invalid_nick", false},
		{"nick with a control", connected, `{"type":"hello","v":1,"nick":"a\u0007b"}`, "invalid_nick", false},
		{"send to a room not joined", greeted, `{"type":"send","room":"general","clientId":"c-1","text":"hi"}`, "not_joined", true},
		{"send to no room", joined, `{"type":"send","room":"nowhere","clientId":"c-1","text":"hi"}`, "not_joined", true},
		{"typing in a room not joined", greeted, `{"type":"typing","room":"general"}`, "not_joined", false},
		{"leave a room not joined", greeted, `{"type":"leave","room":"general"}`, "not_joined", false},
		{"text too long", joined, `{"type":"send","room":"general","clientId":"c-1","text":"` + longText + `"}`, "message_too_long", true},
		{"no text", joined, `{"type":"send","room":"general","clientId":"c-1"}`, "empty_message", true},
		{"blank text", joined, `{"type":"send","room":"general","clientId":"c-1","text":" \n\t "}`, "empty_message", true},
		{"no clientId", joined, `{"type":"send","room":"general","text":"hi"}`, "invalid_client_id", false},
		{"clientId too long", joined, `{"type":"send","room":"general","clientId":"` + strings.Repeat("c", 65) + `","text":"hi"}`, "invalid_client_id", true},
		{"clientId with a space", joined, `{"type":"send","room":"general","clientId":"c 1","text":"hi"}`, "invalid_client_id", true},
		{"since negative", greeted, `{"type":"join","room":"general","since":-1}`, "bad_since", false},
		{"since beyond the last entry", greeted, `{"type":"join","room":"general","since":1000}`, "bad_since", false},
		{"no room", greeted, `{"type":"join"}`, "invalid_room", false},
		{"room with a leading space", greeted, `{"type":"join","room":" general"}`, "invalid_room", false},
		{"room with a control", greeted, `{"type":"join","room":"gen\u0000eral"}`, "invalid_room", false},
		{"room too long", greeted, `{"type":"join","room":"` + strings.Repeat("r", 65) + `"}`, "invalid_room", false},
		{"join twice", joined, `{"type":"join","room":"general"}`, "already_joined", false},
	}

	ts := newTestServer(t, serverConfig{})
	// Give general some history, so that "nothing changed" means something.
	ana := mustGreet(t, ts, "ana")
	ana.joinLive("general")
	ana.send("general", "a-1", "hello")

	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Not parallel: each case checks that the whole server is
			// unchanged.
			c := mustDial(t, ts)
			nick := fmt.Sprintf("user%d", i)
			if tt.state >= greeted {
				c.hello(nick, "")
			}
			if tt.state >= joined {
				c.joinLive("general")
			}
			rooms, hist := ts.rooms(t), ts.history(t, "general")

			c.write(tt.frame)
			e := c.waitError(tt.code)
			if tt.echo && (e.Room == "" || e.ClientID == "") {
				t.Errorf("error %v does not name the frame's room and clientId", e)
			}
			if tt.state == connected {
				// The connection is still waiting for hello.
				c.write(`{"type":"ping"}`)
				c.waitError("hello_required")
				c.hello(nick, "")
			}
			c.ping()

			if got := ts.rooms(t); !reflect.DeepEqual(got, rooms) {
				t.Errorf("GET /api/rooms = %+v, was %+v before the frame", got, rooms)
			}
			if got := ts.history(t, "general"); !reflect.DeepEqual(got, hist) {
				t.Errorf("history of general = %v, was %v before the frame", got, hist)
			}
		})
	}
}

func TestTextLimits(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{})
	c := mustGreet(t, ts, "ana")
	c.joinLive("general")

	for i, text := range []string{
		strings.Repeat("x", parley.MaxTextBytes),
		strings.Repeat("é", parley.MaxTextBytes/2),
		"  padded  ",
	} {
		ack := c.send("general", fmt.Sprintf("c-%d", i), text)
		if e := c.waitEntry("general", ack.Seq); e.Text != text {
			t.Errorf("message %d has text of %d bytes, want the %d bytes sent", ack.Seq, len(e.Text), len(text))
		}
	}
	c.write(`{"type":"send","room":"general","clientId":"long","text":"` + strings.Repeat("x", parley.MaxTextBytes+1) + `"}`)
	c.waitError("message_too_long")

	// A frame of exactly the largest size is read; one byte more is refused.
	frame := `{"type":"ping","pad":""}`
	frame = strings.Replace(frame, `""`, `"`+strings.Repeat("p", 16<<10-len(frame))+`"`, 1)
	c.write(frame)
	c.waitType("pong")
}

// TestJoinBadSinceCreatesNothing checks that a join refused with bad_since
// leaves no trace: an error event never means that anything changed.
func TestJoinBadSinceCreatesNothing(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{})
	c := mustGreet(t, ts, "ana")
	c.write(`{"type":"join","room":"fresh","since":5}`)
	c.waitError("bad_since")
	for _, r := range ts.rooms(t) {
		if r.Name == "fresh" {
			t.Errorf("GET /api/rooms lists %q, which a refused join created", r.Name)
		}
	}
}

func TestCloseCodes(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{})
	tests := []struct {
		name  string
		hello bool
		typ   int
		data  []byte
		code  int
	}{
		{"binary", true, websocket.BinaryMessage, []byte(`{"type":"ping"}`), websocket.CloseUnsupportedData},
		{"binary before hello", false, websocket.BinaryMessage, []byte(`{"type":"ping"}`), websocket.CloseUnsupportedData},
		{"over 16 KiB", true, websocket.TextMessage, bigFrame(16<<10 + 1), websocket.CloseMessageTooBig},
		{"huge", true, websocket.TextMessage, bigFrame(1 << 20), websocket.CloseMessageTooBig},
		{"over 16 KiB before hello", false, websocket.TextMessage, bigFrame(16<<10 + 1), websocket.CloseMessageTooBig},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustDial(t, ts)
			if tt.hello {
				c.hello(fmt.Sprintf("user%d", i), "")
				c.joinLive("general")
			}
			hist := ts.history(t, "general")
			// The server may close the connection before it has read the
			// whole frame, so the write may fail.
			c.conn.SetWriteDeadline(time.Now().Add(waitTime))
			c.conn.WriteMessage(tt.typ, tt.data)
			c.waitClose(tt.code)
			if got := ts.history(t, "general"); !reflect.DeepEqual(got, hist) {
				t.Errorf("history of general = %v, was %v before the frame", got, hist)
			}
		})
	}
}

// bigFrame returns a send frame of n bytes.
func bigFrame(n int) []byte {
	f := []byte(`{"type":"send","room":"general","clientId":"big","text":""}`)
	pad := bytes.Repeat([]byte("x"), n-len(f))
	return slices.Concat(f[:len(f)-2], pad, f[len(f)-2:])
}

// TestRateLimit floods a connection with frames, one after the other: the
// first burst is answered, the frames beyond it are refused with
// rate_limited and dropped, and the connection is closed with 4001.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{})
	c := mustGreet(t, ts, "ana")
	c.joinLive("general")

	reply := func(e event) bool { return e.Type == "pong" || e.Type == "ack" || e.Type == "error" }
	pongs := 0
	for {
		c.write(`{"type":"ping"}`)
		e := c.waitFor("a reply", reply)
		if e.Type == "error" {
			if e.Code != "rate_limited" {
				t.Fatalf("ping %d: got %v, want pong or rate_limited", pongs+1, e)
			}
			break
		}
		pongs++
		if pongs > 100 {
			t.Fatalf("100 pings in a row were answered, want rate_limited after about 40")
		}
	}
	if answered := pongs + 2; answered < 40 { // hello and join count too
		t.Errorf("rate_limited after %d frames, want a burst of 40 answered", answered)
	}

	// Go on with sends: each is stored or refused, and a refusal names the
	// send it refuses, until the connection is closed instead of answering.
	var acked, refused, unanswered []string
	for i := 0; ; i++ {
		if i == 100 {
			t.Fatalf("100 frames after rate_limited, and the connection is still open; want close %d", 4001)
		}
		id := fmt.Sprintf("f-%d", i)
		c.writeJSON(map[string]any{"type": "send", "room": "general", "clientId": id, "text": "flood"})
		c.conn.SetReadDeadline(time.Now().Add(waitTime))
		e, closed := c.nextReply(reply)
		if closed != nil {
			var ce *websocket.CloseError
			if !errors.As(closed, &ce) || ce.Code != 4001 {
				t.Fatalf("after %d sends: connection ended with %v, want close 4001", i+1, closed)
			}
			unanswered = append(unanswered, id)
			break
		}
		switch {
		case e.Type == "ack" && e.ClientID == id:
			acked = append(acked, id)
		case e.Type == "error" && e.Code == "rate_limited":
			if e.ClientID != id || e.Room != "general" {
				t.Errorf("send %s refused with %v, want the error to name room general and clientId %s", id, e, id)
			}
			refused = append(refused, id)
		default:
			t.Fatalf("send %s: got %v, want ack or rate_limited", id, e)
		}
	}
	// The ping refused above was the first of 20 frames refused in a row;
	// the 20th closes the connection.
	if len(refused) < 18 {
		t.Errorf("%d sends refused before close 4001, want at least 18", len(refused))
	}
	hist := ts.history(t, "general")
	for _, id := range acked {
		if n := countClientID(hist, "ana", id); n != 1 {
			t.Errorf("history holds %d messages %s, want 1: it was acknowledged", n, id)
		}
	}
	for _, id := range slices.Concat(refused, unanswered) {
		if n := countClientID(hist, "ana", id); n != 0 {
			t.Errorf("history holds %d messages %s, want 0: it was not acknowledged", n, id)
		}
	}
}

// nextReply returns the first unread event that match accepts, or the error
// that ended the connection.
func (c *client) nextReply(match func(event) bool) (event, error) {
	c.t.Helper()
	for i := 0; ; i++ {
		if i == len(c.unread) {
			_, data, err := c.conn.ReadMessage()
			if err != nil {
				return event{}, err
			}
			c.receive(data)
		}
		if e := c.unread[i]; match(e) {
			c.unread = append(c.unread[:i], c.unread[i+1:]...)
			return e, nil
		}
	}
}

func TestOrigin(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{opts: httpapi.Options{
		AllowedOrigins: []string{"https://app.example", "http://localhost:5173/"},
	}})
	tests := []struct {
		origin string
		ok     bool
	}{
		{"", true},
		{ts.URL, true}, // the server's own origin
		{"https://app.example", true},
		{"HTTPS://APP.EXAMPLE", true},
		{"http://localhost:5173", true},
		{"https://evil.example", false},
		{"https://app.example.evil.example", false},
		{"http://localhost:5174", false},
		{"null", false},
		{"::not a url", false},
	}
	for i, tt := range tests {
		header := http.Header{}
		if tt.origin != "" {
			header.Set("Origin", tt.origin)
		}
		conn, resp, err := dial(ts, header)
		if tt.ok {
			if err != nil {
				t.Errorf("dial with Origin %q = %v, want accepted", tt.origin, err)
				continue
			}
			c := &client{t: t, conn: conn}
			c.hello(fmt.Sprintf("user%d", i), "")
			conn.Close()
			continue
		}
		if err == nil {
			conn.Close()
			t.Errorf("dial with Origin %q succeeded, want refused", tt.origin)
			continue
		}
		if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("dial with Origin %q = %v, %v; want 403", tt.origin, resp, err)
		}
	}
}

// TestHelloTimeout checks that a connection that does not say hello within
// the real 10 seconds, on a fake clock, is closed with 4002.
func TestHelloTimeout(t *testing.T) {
	t.Parallel()
	const helloTimeout = 10 * time.Second // docs/PROTOCOL.md
	clock := newFakeClock()
	ts := newTestServer(t, serverConfig{opts: httpapi.Options{Clock: clock}})
	c := mustDial(t, ts)
	clock.waitTimers(t, 1, helloTimeout)
	clock.Advance(helloTimeout - time.Millisecond)
	// Still open, and other frames do not extend the time.
	c.write(`{"type":"ping"}`)
	c.waitError("hello_required")
	clock.Advance(time.Millisecond)
	c.waitClose(4002)

	// After hello, the timeout no longer applies.
	c = mustDial(t, ts)
	clock.waitTimers(t, 1, helloTimeout)
	c.hello("ana", "")
	clock.Advance(2 * helloTimeout)
	c.ping()
}

// TestShutdownBeforeHello: a connection that has not said hello yet is
// closed with 1001 too when the server shuts down, and so is one that
// connects afterwards.
func TestShutdownBeforeHello(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{})
	quiet := mustDial(t, ts)
	ana := mustGreet(t, ts, "ana")
	ts.hub.Close()
	quiet.waitClose(websocket.CloseGoingAway)
	ana.waitClose(websocket.CloseGoingAway)
	late := mustDial(t, ts)
	late.waitClose(websocket.CloseGoingAway)
}

// TestAnswersInOrder: the server answers a connection's frames in the order
// they came, so a send's ack comes before the pong of a ping sent right
// after it (docs/PROTOCOL.md).
func TestAnswersInOrder(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{})
	ana := mustGreet(t, ts, "ana")
	ana.joinLive("general")
	for i := range 10 { // 20 frames: within the rate limit's burst
		ana.rawWrite(slices.Concat(
			maskedFrame(fmt.Sprintf(`{"type":"send","room":"general","clientId":"a-%d","text":"hi"}`, i)),
			maskedFrame(`{"type":"ping"}`),
		))
		e := ana.waitFor("ack or pong", func(e event) bool { return e.Type == "ack" || e.Type == "pong" })
		if e.Type != "ack" {
			t.Fatalf("send %d then ping: got %v first, want the ack", i, e)
		}
		ana.waitType("pong")
	}
}

// TestBatching has one client send while another does not read: the
// events that wait for the slow reader are joined into fewer WebSocket
// messages, and it receives each exactly once, in order.
func TestBatching(t *testing.T) {
	t.Parallel()
	// Small socket buffers make the server's writes to bob block soon after
	// bob stops reading, so that events queue up for him.
	const buffer = 8 << 10
	ts := newTestServer(t, serverConfig{writeBuffer: buffer})
	ana := mustGreet(t, ts, "ana")
	ana.joinLive("general")

	dialer := websocket.Dialer{
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return conn, conn.(*net.TCPConn).SetReadBuffer(buffer)
		},
	}
	conn, _, err := dialer.Dial(ts.wsURL(), nil)
	if err != nil {
		t.Fatalf("Dial(%s) = %v", ts.wsURL(), err)
	}
	t.Cleanup(func() { conn.Close() })
	bob := &client{t: t, conn: conn}
	bob.hello("bob", "")
	_, own := bob.joinLive("general")

	const n = 20
	text := strings.Repeat("x", 4000)
	var want []int64
	for i := range n {
		ack := ana.send("general", fmt.Sprintf("a-%d", i), fmt.Sprintf("%d %s", i, text))
		want = append(want, ack.Seq)
	}
	last := want[n-1]

	var got []int64
	batched := 0
	deadline := time.Now().Add(waitTime)
	for len(got) == 0 || got[len(got)-1] < last {
		data := bob.readMessage(fmt.Sprintf("message %d", last), deadline)
		if bytes.Count(data, []byte("\n")) > 0 {
			batched++
		}
		bob.receive(data)
		for _, e := range bob.unread {
			if e.IsEntry() && e.Seq > own.Seq {
				got = append(got, e.Seq)
			}
		}
		bob.unread = nil
	}
	if !slices.Equal(got, want) {
		t.Errorf("bob received messages %v, want %v", got, want)
	}
	for i, e := range bob.entries("general")[1:] {
		if wantText := fmt.Sprintf("%d %s", i, text); e.Text != wantText {
			t.Errorf("message %d: text %.10q…, want %.10q…", e.Seq, e.Text, wantText)
		}
	}
	if batched == 0 {
		t.Errorf("every WebSocket message carried one event, want several events joined in one")
	}
}

func TestShutdown(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{allowErrors: true})
	ana := mustGreet(t, ts, "ana")
	ana.joinLive("general")
	bob := mustGreet(t, ts, "bob")

	ts.hub.Close()
	ana.waitClose(websocket.CloseGoingAway)
	bob.waitClose(websocket.CloseGoingAway)

	// A connection that says hello during shutdown is told to go elsewhere.
	c := mustDial(t, ts)
	c.write(`{"type":"hello","v":1,"nick":"carol"}`)
	c.waitClose(websocket.CloseGoingAway)
}

// TestFrameAfterHubClosed: a frame read after the hub has closed the client
// (here, at shutdown) ends the connection with the hub's close code; it is
// no internal error, neither logged nor counted as one.
func TestFrameAfterHubClosed(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, serverConfig{opts: httpapi.Options{Observer: rec}})
	ana := mustGreet(t, ts, "ana")
	ana.joinLive("general")

	ts.hub.Close()
	ana.write(`{"type":"join","room":"lobby"}`)
	ana.waitClose(websocket.CloseGoingAway)
	ts.waitIdle(t)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.rejected) > 0 {
		t.Errorf("Rejected called with %q, want no rejection", rec.rejected)
	}
}

// recorder is an httpapi.Observer that keeps count.
type recorder struct {
	mu       sync.Mutex
	framesIn int      // guarded by mu
	messages int      // guarded by mu
	events   int      // guarded by mu
	rejected []string // guarded by mu
}

func (r *recorder) FrameIn() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.framesIn++
}

func (r *recorder) MessageOut(events int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.messages++
	r.events += events
}

func (r *recorder) Rejected(code string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rejected = append(r.rejected, code)
}

// TestObserver checks that the Observer is told about every frame read and
// every message and event written.
func TestObserver(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, serverConfig{opts: httpapi.Options{Observer: rec}})
	for i := range 3 {
		ts.mustAppend(t, "general", "bob", fmt.Sprintf("b-%d", i), "earlier")
	}

	c := mustDial(t, ts)
	frames := 0
	write := func(frame string) {
		c.write(frame)
		frames++
	}
	write(`nope`)
	c.waitError("bad_json")
	write(`{"type":"hello","v":1,"nick":"ana"}`)
	c.waitType("welcome")
	write(`{"type":"join","room":"general","since":0}`) // joined, then the replay in one message
	c.waitFor("ana's join entry", func(e event) bool { return e.IsEntry() && e.Type == "join" })
	write(`{"type":"send","room":"general","clientId":"a-1","text":"hi"}`)
	c.waitType("ack")
	write(`{"type":"ping","room":5}`)
	c.waitError("bad_json")
	write(`{"type":"ping"}`)
	c.waitType("pong")
	c.conn.Close()
	ts.waitIdle(t)

	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.framesIn != frames {
		t.Errorf("FrameIn called %d times, want %d, once per frame", rec.framesIn, frames)
	}
	if want := []string{"bad_json", "bad_json"}; !slices.Equal(rec.rejected, want) {
		t.Errorf("Rejected called with %q, want %q", rec.rejected, want)
	}
	// The client may not have read the last messages, such as its own
	// message event, before it closed the connection.
	if rec.messages < c.messages || rec.events < len(c.seen) {
		t.Errorf("MessageOut called %d times with %d events in all; the client received %d messages with %d events",
			rec.messages, rec.events, c.messages, len(c.seen))
	}
	if rec.events > len(c.seen)+2 || rec.messages > c.messages+2 {
		t.Errorf("MessageOut called %d times with %d events in all; the client received %d messages with %d events, and at most 2 more were in flight",
			rec.messages, rec.events, c.messages, len(c.seen))
	}
}

func TestMetricsRoute(t *testing.T) {
	t.Parallel()
	metrics := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("parley_frames_in_total 0\n"))
	})
	ts := newTestServer(t, serverConfig{opts: httpapi.Options{Metrics: metrics}})
	resp, body := ts.get(t, http.MethodGet, "/metrics")
	if resp.StatusCode != http.StatusOK || string(body) != "parley_frames_in_total 0\n" {
		t.Errorf("GET /metrics = %d %q, want the metrics handler's answer", resp.StatusCode, body)
	}
	if resp, _ := ts.get(t, http.MethodPost, "/metrics"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics = %d, want 405", resp.StatusCode)
	}
}

// sameTime reports whether two RFC 3339 times are the same instant.
func sameTime(a, b time.Time) bool {
	return !a.IsZero() && a.Equal(b)
}

// seqs returns the sequence numbers of entries.
func seqs(entries []event) []int64 {
	s := make([]int64, len(entries))
	for i, e := range entries {
		s[i] = e.Seq
	}
	return s
}

// countClientID counts the messages from nick with clientID in entries.
func countClientID(entries []*parley.Entry, nick, clientID string) int {
	n := 0
	for _, e := range entries {
		if e.Kind == parley.KindMessage && e.From == nick && e.ClientID == clientID {
			n++
		}
	}
	return n
}

// Frames that arrive together, in one TCP segment, are each handled, as is
// a frame longer than the server's read buffer that arrives in parts: the
// server looks in what it has read, not only at the socket, before it waits
// for more. The first segment is shorter than any read buffer the server
// might use, so it is read whole at once.
func TestFramesArriveTogether(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{})
	ana := mustGreet(t, ts, "ana")

	together := maskedFrame(`{"type":"join","room":"r"}`)
	for i := 1; i <= 3; i++ {
		together = append(together, maskedFrame(fmt.Sprintf(`{"type":"send","room":"r","clientId":"m%d","text":"m"}`, i))...)
	}
	long := maskedFrame(`{"type":"send","room":"r","clientId":"long","text":"` + strings.Repeat("x", 3000) + `"}`)
	together = append(together, long[:40]...)
	if len(together) > 256 {
		t.Fatalf("the first segment has %d bytes, want at most 256", len(together))
	}
	ana.rawWrite(together)
	ana.waitType("joined")
	for i := 1; i <= 3; i++ {
		ana.waitFor(fmt.Sprintf("ack of m%d", i), func(e event) bool {
			return e.Type == "ack" && e.ClientID == fmt.Sprintf("m%d", i) && e.Seq == int64(i+1)
		})
	}
	ana.rawWrite(long[40:])
	ana.waitFor("ack of long", func(e event) bool { return e.Type == "ack" && e.ClientID == "long" && e.Seq == 5 })
}

// A client may send its joins right after hello, without waiting for
// welcome (docs/PROTOCOL.md): the frames are answered in order, and when
// hello is refused, what follows it is refused too and creates nothing.
func TestHelloPipelined(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{})
	ana := mustDial(t, ts)
	ana.rawWrite(slices.Concat(
		maskedFrame(`{"type":"hello","v":1,"nick":"ana"}`),
		maskedFrame(`{"type":"join","room":"r"}`),
		maskedFrame(`{"type":"send","room":"r","clientId":"a-1","text":"hi"}`),
	))
	if w := ana.waitType("welcome"); w.Nick != "ana" {
		t.Errorf("welcome = %v, want ana's", w)
	}
	if j := ana.waitType("joined"); j.Room != "r" {
		t.Errorf("joined = %v, want room r", j)
	}
	ana.waitFor("ack of a-1", func(e event) bool { return e.Type == "ack" && e.ClientID == "a-1" && e.Seq == 2 })

	impostor := mustDial(t, ts)
	impostor.rawWrite(slices.Concat(
		maskedFrame(`{"type":"hello","v":1,"nick":"ANA"}`),
		maskedFrame(`{"type":"join","room":"elsewhere"}`),
	))
	impostor.waitError("nickname_taken")
	impostor.waitError("hello_required")
	for _, r := range ts.rooms(t) {
		if r.Name == "elsewhere" {
			t.Errorf("rooms = %v: a join after a refused hello created its room", ts.rooms(t))
		}
	}
}

// maskedFrame encodes a final text frame as a client sends it, masked with
// the key 0, which leaves the payload as it is.
func maskedFrame(payload string) []byte {
	b := []byte{0x81}
	if n := len(payload); n < 126 {
		b = append(b, 0x80|byte(n))
	} else {
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	}
	b = append(b, 0, 0, 0, 0)
	return append(b, payload...)
}

// rawWrite writes b to the client's TCP connection in one call.
func (c *client) rawWrite(b []byte) {
	c.t.Helper()
	nc := c.conn.NetConn()
	nc.SetWriteDeadline(time.Now().Add(waitTime))
	if _, err := nc.Write(b); err != nil {
		c.t.Fatalf("Write(%d bytes) = %v", len(b), err)
	}
}

// A replay page longer than 65,535 bytes, which takes a WebSocket frame
// header with a 64-bit length, arrives whole.
func TestLongReplayPage(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{})
	text := strings.Repeat("x", parley.MaxTextBytes-1)
	const n = 20 // 20 × 4 KB: one page, one message
	for i := range n {
		e := &parley.Entry{Room: "general", Kind: parley.KindMessage, From: "ana", ClientID: fmt.Sprintf("c-%d", i), Text: text}
		if _, err := ts.store.Append(context.Background(), e); err != nil {
			t.Fatalf("Append() = %v", err)
		}
	}
	c := mustGreet(t, ts, "bob")
	since := int64(0)
	c.join("general", &since)
	for seq := int64(1); seq <= n; seq++ {
		if e := c.waitEntry("general", seq); e.Text != text {
			t.Fatalf("entry %d has %d bytes of text, want %d", seq, len(e.Text), len(text))
		}
	}
}

// TestErrorsAreLoggedAtABoundedRate: a store that fails every write makes
// every send fail, but the log gets a burst of lines, then one a second,
// the first of which says how many were dropped.
func TestErrorsAreLoggedAtABoundedRate(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	ts := newTestServer(t, serverConfig{allowErrors: true, opts: httpapi.Options{Clock: clock}})
	ana := mustGreet(t, ts, "ana")
	ana.joinLive("general")
	if err := ts.store.Close(); err != nil {
		t.Fatal(err)
	}
	failed := func() []string {
		var lines []string
		for _, m := range ts.errs.messages() {
			if strings.HasPrefix(m, "frame failed") {
				lines = append(lines, m)
			}
		}
		return lines
	}
	const sends = 30 // within the frame rate's burst
	for i := range sends {
		ana.writeJSON(map[string]any{"type": "send", "room": "general", "clientId": fmt.Sprint("c-", i), "text": "hi"})
		ana.waitFor("the send's error", func(e event) bool { return e.Type == "error" && e.ClientID == fmt.Sprint("c-", i) })
	}
	if got := failed(); len(got) != 10 {
		t.Fatalf("%d failed sends logged %d lines, want the burst of 10:\n%s", sends, len(got), strings.Join(got, "\n"))
	}
	clock.Advance(time.Second)
	ana.writeJSON(map[string]any{"type": "send", "room": "general", "clientId": "later", "text": "hi"})
	ana.waitFor("the send's error", func(e event) bool { return e.Type == "error" && e.ClientID == "later" })
	got := failed()
	if len(got) != 11 || !strings.Contains(got[10], "dropped_before=20") {
		t.Errorf("a second later, the log holds %d lines, the last %q; want 11, the last saying dropped_before=20", len(got), got[len(got)-1])
	}
}
