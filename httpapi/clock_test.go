package httpapi_test

import (
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/httpapi"
)

// fakeClock is an httpapi.Clock whose time moves only when a test says so
// (Advance), so that the protocol's timers are tested at their real lengths
// without waiting for them.
type fakeClock struct {
	mu     sync.Mutex
	cond   *sync.Cond // signalled when a timer is armed
	now    time.Time
	timers map[*fakeTimer]bool // armed ones
}

type fakeTimer struct {
	c    *fakeClock
	when time.Time // guarded by c.mu
	f    func()
}

func newFakeClock() *fakeClock {
	c := &fakeClock{now: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC), timers: map[*fakeTimer]bool{}}
	c.cond = sync.NewCond(&c.mu)
	return c
}

var _ httpapi.Clock = (*fakeClock)(nil)

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) httpapi.Timer {
	t := &fakeTimer{c: c, f: f}
	t.Reset(d)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	armed := t.c.timers[t]
	delete(t.c.timers, t)
	return armed
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	armed := t.c.timers[t]
	t.when = t.c.now.Add(d)
	t.c.timers[t] = true
	t.c.cond.Broadcast()
	return armed
}

// Advance moves the time on by d and runs, each in a goroutine of its own
// as time.AfterFunc does, the functions of the timers that came due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for t := range c.timers {
		if !t.when.After(c.now) {
			delete(c.timers, t)
			go t.f()
		}
	}
}

// waitTimers waits until at least n timers due within d from now are armed.
func (c *fakeClock) waitTimers(t *testing.T, n int, d time.Duration) {
	t.Helper()
	timeout := time.AfterFunc(waitTime, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer timeout.Stop()
	deadline := time.Now().Add(waitTime)
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		armed := 0
		for tm := range c.timers {
			if !tm.when.After(c.now.Add(d)) {
				armed++
			}
		}
		if armed >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d timers due within %v are armed after %v, want %d", armed, d, waitTime, n)
		}
		c.cond.Wait()
	}
}
