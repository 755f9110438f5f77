package redis

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/redistest"
)

// The roster's tests run against real Redis servers with short TTLs, and
// wait for what they expect, each wait bounded by waitTimeout. Redis keeps
// the time: a test can bound when an entry expires from below, never from
// above, on a loaded machine.

// testTTL and testHeartbeat are short, for tests; the heartbeat leaves a
// loaded machine ample time to beat before an entry expires.
const (
	testTTL       = time.Second
	testHeartbeat = 100 * time.Millisecond
)

// rosterReplica is a roster under test and its log.
type rosterReplica struct {
	*Roster
	logs *logs
	stop func() // ends Run, as a replica that dies; nil when Run did not start
}

// newRoster returns a roster for the Redis at url with the test's TTL and
// heartbeat, closed when the test ends.
func newRoster(t *testing.T, url string) *rosterReplica {
	t.Helper()
	l := newLogs()
	ro, err := NewRoster(url, slog.New(l), RosterOptions{TTL: testTTL, Heartbeat: testHeartbeat})
	if err != nil {
		t.Fatalf("NewRoster(%q) = %v", url, err)
	}
	rr := &rosterReplica{Roster: ro, logs: l}
	t.Cleanup(func() {
		if rr.stop != nil {
			rr.stop()
		}
		if err := ro.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
		if t.Failed() {
			t.Logf("the roster's log:\n%s", l)
		}
	})
	return rr
}

// run starts rr's heartbeat, which rr.stop ends.
func (rr *rosterReplica) run(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rr.Run(ctx) }()
	var once sync.Once
	rr.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run() = %v, want nil", err)
				}
			case <-time.After(waitTimeout):
				t.Errorf("Run() did not return within %v of its context's end", waitTimeout)
			}
		})
	}
}

// startRoster returns a roster that beats until the test ends or stop is
// called.
func startRoster(t *testing.T, url string) *rosterReplica {
	t.Helper()
	rr := newRoster(t, url)
	rr.run(t)
	return rr
}

// changes records what a roster watch is told.
type changes struct {
	mu         sync.Mutex
	gone, back []string      // guarded by mu
	changed    chan struct{} // capacity 1
}

func newChanges() *changes { return &changes{changed: make(chan struct{}, 1)} }

func (c *changes) record(gone, back []string) {
	c.mu.Lock()
	c.gone = append(c.gone, gone...)
	c.back = append(c.back, back...)
	c.mu.Unlock()
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

func (c *changes) lists() (gone, back []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Sorted(slices.Values(c.gone)), slices.Sorted(slices.Values(c.back))
}

// wait waits until cond holds of what c was told.
func (c *changes) wait(t *testing.T, what string, cond func(gone, back []string) bool) {
	t.Helper()
	timeout := time.After(waitTimeout)
	for {
		if cond(c.lists()) {
			return
		}
		select {
		case <-c.changed:
		case <-timeout:
			gone, back := c.lists()
			t.Fatalf("not %s within %v: gone %q, back %q", what, waitTimeout, gone, back)
		}
	}
}

func mustAdd(t *testing.T, ro *rosterReplica, room, key, nick string) bool {
	t.Helper()
	elsewhere, err := ro.Add(context.Background(), room, key, nick)
	if err != nil {
		t.Fatalf("Add(%q, %q) = %v", room, key, err)
	}
	return elsewhere
}

func mustRemove(t *testing.T, ro *rosterReplica, room, key string) bool {
	t.Helper()
	elsewhere, err := ro.Remove(context.Background(), room, key)
	if err != nil {
		t.Fatalf("Remove(%q, %q) = %v", room, key, err)
	}
	return elsewhere
}

func mustElsewhere(t *testing.T, ro *rosterReplica, room, key string) bool {
	t.Helper()
	elsewhere, err := ro.Elsewhere(context.Background(), room, key)
	if err != nil {
		t.Fatalf("Elsewhere(%q, %q) = %v", room, key, err)
	}
	return slices.Equal(elsewhere, []string{key})
}

// online returns who ro says is online in room, sorted and joined.
func online(t *testing.T, ro *rosterReplica, room string) string {
	t.Helper()
	nicks, err := ro.Online(context.Background(), room)
	if err != nil {
		t.Fatalf("Online(%q) = %v", room, err)
	}
	slices.Sort(nicks)
	return strings.Join(nicks, " ")
}

// TestRosterTwoReplicas: what one replica adds, the other sees; a person
// on both is online once, and elsewhere for each until one removes them.
func TestRosterTwoReplicas(t *testing.T) {
	srv := redistest.Start(t)
	a, b := startRoster(t, srv.URL()), startRoster(t, srv.URL())
	if mustAdd(t, a, "general", "ana", "Ana") {
		t.Error("Add(ana) on a = elsewhere, want not: she is nowhere else")
	}
	if mustElsewhere(t, a, "general", "ana") {
		t.Error("Elsewhere(ana) on a = true, want false: she is only on a")
	}
	if !mustElsewhere(t, b, "general", "ana") {
		t.Error("Elsewhere(ana) on b = false, want true: she is on a")
	}
	if !mustAdd(t, b, "general", "ana", "ana") {
		t.Error("Add(ana) on b = not elsewhere, want elsewhere: she is on a")
	}
	mustAdd(t, b, "general", "bob", "bob")
	mustAdd(t, b, "other room", "carol", "carol")
	if got, err := a.Elsewhere(context.Background(), "general", "ana", "bob", "carol", "dan"); err != nil || !slices.Equal(got, []string{"ana", "bob"}) {
		t.Errorf("Elsewhere(general, ana, bob, carol, dan) on a = %q, %v; want ana and bob, on b: carol is in another room, dan nowhere", got, err)
	}
	if got, err := a.Elsewhere(context.Background(), "general"); err != nil || got != nil {
		t.Errorf("Elsewhere(general) of nobody = %q, %v; want nil, nil", got, err)
	}
	for _, ro := range []*rosterReplica{a, b} {
		if got := online(t, ro, "general"); got != "Ana bob" && got != "ana bob" {
			t.Errorf("Online(general) = %q, want ana once, and bob", got)
		}
		if got := online(t, ro, "other room"); got != "carol" {
			t.Errorf("Online(other room) = %q, want carol", got)
		}
	}
	if !mustRemove(t, a, "general", "ana") {
		t.Error("Remove(ana) on a = not elsewhere, want elsewhere: she is on b")
	}
	if mustRemove(t, b, "general", "ana") {
		t.Error("Remove(ana) on b = elsewhere, want not: a removed her")
	}
	if got := online(t, a, "general"); got != "bob" {
		t.Errorf("Online(general) = %q, want bob", got)
	}
	if got := online(t, a, "nowhere"); got != "" {
		t.Errorf("Online(nowhere) = %q, want nobody", got)
	}
	// Heartbeats keep the entries of a live replica, however long.
	time.Sleep(2 * testTTL) // longer than an entry lives without them
	if got := online(t, a, "general"); got != "bob" {
		t.Errorf("Online(general) after %v = %q, want bob, kept by b's heartbeat", 2*testTTL, got)
	}
}

// TestRosterDeadReplica: the entries of a replica that stops beating
// expire after the TTL and no sooner; exactly one of the replicas that
// watch the room takes each person off and is told they are gone, unless
// they are online on another replica.
func TestRosterDeadReplica(t *testing.T) {
	srv := redistest.Start(t)
	dead := startRoster(t, srv.URL())
	var live []*rosterReplica
	var told []*changes
	for range 2 {
		ro := startRoster(t, srv.URL())
		c := newChanges()
		defer ro.Watch("general", c.record)()
		live, told = append(live, ro), append(told, c)
	}
	mustAdd(t, live[0], "general", "erin", "erin")
	mustAdd(t, dead, "general", "erin", "erin")
	start := time.Now()
	for _, nick := range []string{"bob", "carol"} {
		mustAdd(t, dead, "general", nick, nick)
	}
	dead.stop() // as kill -9: nothing is removed
	gone := func() []string {
		var all []string
		for _, c := range told {
			g, _ := c.lists()
			all = append(all, g...)
		}
		slices.Sort(all)
		return all
	}
	deadline := time.Now().Add(waitTimeout)
	for !slices.Equal(gone(), []string{"bob", "carol"}) {
		if time.Now().After(deadline) {
			t.Fatalf("gone = %q after %v, want bob and carol", gone(), waitTimeout)
		}
		time.Sleep(testHeartbeat / 2) // between looks at what the watchers were told
	}
	// Redis counts whole milliseconds.
	if elapsed := time.Since(start); elapsed < testTTL-time.Millisecond {
		t.Errorf("the dead replica's people went after %v, before its entries expired (%v)", elapsed, testTTL)
	}
	if got := online(t, live[1], "general"); got != "erin" {
		t.Errorf("Online(general) = %q, want only erin, online on a live replica", got)
	}
	time.Sleep(3 * testHeartbeat) // more heartbeats: nobody is told again
	if got := gone(); !slices.Equal(got, []string{"bob", "carol"}) {
		t.Errorf("gone = %q, want bob and carol, each told to one replica once", got)
	}
}

// TestRosterBack: a replica whose people were taken off while it did not
// beat puts them back at its next heartbeat, and is told so; a replica
// whose entries Redis lost (a restart) puts them back without a word.
func TestRosterBack(t *testing.T) {
	srv := redistest.Start(t)
	other := startRoster(t, srv.URL())
	otherChanges := newChanges()
	defer other.Watch("general", otherChanges.record)()
	cut := newRoster(t, srv.URL()) // does not beat yet, as one cut off from Redis
	c := newChanges()
	defer cut.Watch("general", c.record)()
	mustAdd(t, cut, "general", "bob", "Bob")
	otherChanges.wait(t, "bob gone", func(gone, _ []string) bool { return slices.Equal(gone, []string{"Bob"}) })

	cut.run(t)
	c.wait(t, "bob back", func(_, back []string) bool { return slices.Equal(back, []string{"Bob"}) })
	if got := online(t, other, "general"); got != "Bob" {
		t.Errorf("Online(general) = %q, want Bob back", got)
	}

	srv.Restart() // empty
	waitFor(t, "bob on the roster again", func() bool {
		nicks, err := other.Online(context.Background(), "general")
		return err == nil && slices.Equal(nicks, []string{"Bob"})
	})
	time.Sleep(2 * testHeartbeat)
	if gone, back := c.lists(); len(gone) != 0 || !slices.Equal(back, []string{"Bob"}) {
		t.Errorf("after Redis restarted: told gone %q, back %q; want nothing more", gone, back)
	}
}

// TestRosterRedisDown: while Redis is down, calls fail, the heartbeat says
// so once and says when it works again; what was added meanwhile is on
// the roster then.
func TestRosterRedisDown(t *testing.T) {
	srv := redistest.Start(t)
	ro := startRoster(t, srv.URL())
	mustAdd(t, ro, "general", "ana", "ana")
	srv.Stop()
	ctx := context.Background()
	if _, err := ro.Add(ctx, "general", "bob", "bob"); err == nil {
		t.Error("Add() with Redis down = nil, want an error")
	}
	if _, err := ro.Remove(ctx, "general", "ana"); err == nil {
		t.Error("Remove() with Redis down = nil, want an error")
	}
	if _, err := ro.Elsewhere(ctx, "general", "ana"); err == nil {
		t.Error("Elsewhere() with Redis down = nil, want an error")
	}
	if _, err := ro.Online(ctx, "general"); err == nil {
		t.Error("Online() with Redis down = nil, want an error")
	}
	ro.logs.wait(t, "redis roster heartbeat failed;", 1)
	srv.Restart()
	ro.logs.wait(t, "redis roster heartbeat back", 1)
	if got := online(t, ro, "general"); got != "bob" {
		t.Errorf("Online(general) = %q, want bob, added while Redis was down, and not ana, removed", got)
	}
	if n := ro.logs.count("redis roster heartbeat failed;"); n != 1 {
		t.Errorf("logged the heartbeat's failure %d times, want once", n)
	}
}

// TestRosterForgetsIdleRooms: a room nobody is online in here and nobody
// watches costs a heartbeat nothing.
func TestRosterForgetsIdleRooms(t *testing.T) {
	srv := redistest.Start(t)
	ro := startRoster(t, srv.URL())
	unwatch := ro.Watch("general", func(gone, back []string) {})
	mustAdd(t, ro, "general", "ana", "ana")
	mustRemove(t, ro, "general", "ana")
	unwatch()
	unwatch() // again: nothing
	// A heartbeat under way keeps it until it ends.
	waitFor(t, "the room forgotten", func() bool {
		ro.mu.Lock()
		defer ro.mu.Unlock()
		return len(ro.rooms) == 0
	})
}

func TestNewRosterErrors(t *testing.T) {
	discard := slog.New(slog.DiscardHandler)
	if _, err := NewRoster("redis://parley:hunter2@[::1:6379", discard, RosterOptions{}); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("NewRoster(bad URL) = %v, want an error without the password", err)
	}
	opts := RosterOptions{TTL: time.Second, Heartbeat: 600 * time.Millisecond}
	if _, err := NewRoster("redis://localhost:6379", discard, opts); err == nil {
		t.Errorf("NewRoster(%+v) = nil error, want one: the heartbeat is more than half the TTL", opts)
	}
	ro, err := NewRoster("redis://localhost:6379", discard, RosterOptions{TTL: 6 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if ro.ttl != 6*time.Second || ro.heartbeat != 2*time.Second {
		t.Errorf("NewRoster(TTL 6s) has TTL %v, heartbeat %v; want 6s, 2s", ro.ttl, ro.heartbeat)
	}
	ro, err = NewRoster("redis://localhost:6379", discard, RosterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if ro.ttl != DefaultTTL || ro.heartbeat != DefaultHeartbeat {
		t.Errorf("NewRoster() has TTL %v, heartbeat %v; want %v, %v", ro.ttl, ro.heartbeat, DefaultTTL, DefaultHeartbeat)
	}
}

// TestRosterManyRooms: a heartbeat covers rooms in batches.
func TestRosterManyRooms(t *testing.T) {
	srv := redistest.Start(t)
	a, b := startRoster(t, srv.URL()), startRoster(t, srv.URL())
	n := 2*beatBatch + 1
	for i := range n {
		mustAdd(t, a, fmt.Sprintf("room %d", i), "ana", "ana")
	}
	time.Sleep(2 * testTTL)
	for _, i := range []int{0, beatBatch, n - 1} {
		if room := fmt.Sprintf("room %d", i); !mustElsewhere(t, b, room, "ana") {
			t.Errorf("Elsewhere(%q, ana) on b = false after %v, want true: a's heartbeat keeps her", room, 2*testTTL)
		}
	}
}
