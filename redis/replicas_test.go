package redis

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/hub"
	"github.com/parley-chat/parley/internal/redistest"
	"github.com/parley-chat/parley/protocol"
	"github.com/parley-chat/parley/sqlite"
)

// The test of this file runs two replicas in one process, as two hubs on
// one store, each with a Broker of its own on one Redis: the whole path of
// a message from one replica's client to another's.

// hubReplica is one replica: a hub, its broker and its roster, running
// until the test ends.
type hubReplica struct {
	hub    *hub.Hub
	broker *replica
	roster *rosterReplica
}

func startHubReplica(t *testing.T, store parley.Store, url string) *hubReplica {
	t.Helper()
	b := startBroker(t, url, nil)
	ro := startRoster(t, url)
	h := hub.New(store, b.Broker, slog.New(b.logs), hub.Options{Grace: time.Minute, Roster: ro.Roster})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	t.Cleanup(func() {
		h.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Hub.Run() = %v, want nil", err)
		}
	})
	return &hubReplica{hub: h, broker: b, roster: ro}
}

// member is a client connected to a replica: it decodes every event the
// hub writes or queues for it.
type member struct {
	c      *hub.Client
	events chan protocol.Event
	wake   chan struct{}
}

// Write implements hub.Conn.
func (m *member) Write(_ context.Context, frame []byte) error {
	m.decode(frame)
	return nil
}

// Wake implements hub.Conn.
func (m *member) Wake() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

func (m *member) decode(frame []byte) {
	events, err := protocol.DecodeEvents(frame)
	if err != nil {
		panic(fmt.Sprintf("undecodable events: %v", err))
	}
	for _, e := range events {
		m.events <- e
	}
}

// connect connects nick to r and joins room general, live.
func (r *hubReplica) connect(t *testing.T, nick string) *member {
	t.Helper()
	m := &member{events: make(chan protocol.Event, 10000), wake: make(chan struct{}, 1)}
	c, err := r.hub.Connect(nick, m)
	if err != nil {
		t.Fatalf("Connect(%q) = %v", nick, err)
	}
	m.c = c
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var frames [][]byte
		for {
			select {
			case <-stop:
				return
			case <-c.Done():
				return
			case <-m.wake:
			}
			frames = c.Take(frames)
			for _, f := range frames {
				m.decode(f)
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		<-done
		c.Disconnect()
	})
	if err := c.Join(context.Background(), "general", nil); err != nil {
		t.Fatalf("%s: Join(general) = %v", nick, err)
	}
	return m
}

// await returns the member's next event that match accepts; the events
// it skips are gone.
func (m *member) await(t *testing.T, what string, match func(protocol.Event) bool) protocol.Event {
	t.Helper()
	timeout := time.After(waitTimeout)
	for {
		select {
		case e := <-m.events:
			if match(e) {
				return e
			}
		case <-timeout:
			t.Fatalf("%s: no event %s within %v", m.c.Nick(), what, waitTimeout)
			return protocol.Event{}
		}
	}
}

// entry returns the member's next log entry; other events are skipped.
func (m *member) entry(t *testing.T) protocol.Event {
	t.Helper()
	timeout := time.After(waitTimeout)
	for {
		select {
		case e := <-m.events:
			if e.IsEntry() {
				return e
			}
		case <-timeout:
			t.Fatalf("%s: no entry within %v", m.c.Nick(), waitTimeout)
			return protocol.Event{}
		}
	}
}

// log reads the member's entries, checking that each follows the one
// before it, until one is the message text; it returns them.
func (m *member) log(t *testing.T, last *protocol.Event, text string) []protocol.Event {
	t.Helper()
	var got []protocol.Event
	for {
		e := m.entry(t)
		if last.Seq != 0 && e.Seq != last.Seq+1 {
			t.Fatalf("%s: entry %d (%s %q) after entry %d, want %d: a gap or a repeat", m.c.Nick(), e.Seq, e.Type, e.Text, last.Seq, last.Seq+1)
		}
		*last = e
		got = append(got, e)
		if e.Type == "message" && e.Text == text {
			return got
		}
	}
}

// texts returns the texts of the messages among entries.
func texts(entries []protocol.Event) []string {
	var ts []string
	for _, e := range entries {
		if e.Type == "message" {
			ts = append(ts, e.Text)
		}
	}
	return ts
}

// TestTwoReplicas: what a client of one replica sends, a client of the
// other receives, every entry once and in order; also what is sent while
// Redis restarts, which arrives once it is back.
func TestTwoReplicas(t *testing.T) {
	srv := redistest.Start(t)
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatalf("sqlite.Open() = %v", err)
	}
	t.Cleanup(func() { store.Close() })
	a := startHubReplica(t, store, srv.URL())
	b := startHubReplica(t, store, srv.URL())
	ana := a.connect(t, "ana")
	bob := b.connect(t, "bob")
	var anaLast, bobLast protocol.Event
	// Bob's join reaches ana through Redis.
	for anaLast.Type != "join" || anaLast.From != "bob" {
		anaLast = ana.entry(t)
	}

	var sent []string
	send := func(phase string, n int) {
		t.Helper()
		for i := range n {
			text := fmt.Sprintf("%s %d", phase, i)
			id := fmt.Sprintf("%s-%d", phase, i)
			if _, err := ana.c.Send(context.Background(), "general", id, text); err != nil {
				t.Fatalf("ana: Send(%q) = %v", text, err)
			}
			sent = append(sent, text)
		}
	}
	check := func(m *member, last *protocol.Event, want []string) {
		t.Helper()
		got := texts(m.log(t, last, want[len(want)-1]))
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s received %q, want %q", m.c.Nick(), got, want)
		}
	}

	send("before", 20)
	check(bob, &bobLast, sent)
	check(ana, &anaLast, sent)

	srv.Stop()
	a.broker.logs.wait(t, "redis connection lost", 1)
	b.broker.logs.wait(t, "redis connection lost", 1)
	sent = nil
	send("during", 5)
	// Ana's replica serves her without Redis.
	check(ana, &anaLast, sent)

	srv.Restart()
	check(bob, &bobLast, sent)

	sent = nil
	send("after", 20)
	check(bob, &bobLast, sent)
	check(ana, &anaLast, sent)
}

// TestTwoReplicasPresence: with a roster on Redis, a replica's joined
// event lists the people of both, and when a replica stops beating, the
// other takes its people offline and stores their leaves once the TTL is
// over.
func TestTwoReplicasPresence(t *testing.T) {
	srv := redistest.Start(t)
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatalf("sqlite.Open() = %v", err)
	}
	t.Cleanup(func() { store.Close() })
	a := startHubReplica(t, store, srv.URL())
	b := startHubReplica(t, store, srv.URL())
	bob := a.connect(t, "bob")
	carol := b.connect(t, "carol")
	joined := carol.await(t, "joined", func(e protocol.Event) bool { return e.Type == "joined" })
	if got := fmt.Sprint(joined.Online); got != "[bob carol]" {
		t.Errorf("carol's joined.online = %s, want [bob carol]", got)
	}
	if n := a.hub.Online(context.Background(), "general"); n != 2 {
		t.Errorf("Online() on bob's replica = %d, want 2", n)
	}

	b.roster.stop() // b stops beating, as if killed
	start := time.Now()
	bob.await(t, "carol offline", func(e protocol.Event) bool {
		return e.Type == "offline" && e.Nick == "carol" || e.Type == "presence" && slices.Contains(e.Offline, "carol")
	})
	if elapsed := time.Since(start); elapsed < testTTL-testHeartbeat {
		t.Errorf("carol went offline %v after her replica stopped beating, before her entry expired", elapsed)
	}
	bob.await(t, "carol's leave", func(e protocol.Event) bool { return e.Type == "leave" && e.From == "carol" })
}
