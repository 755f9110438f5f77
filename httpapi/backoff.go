package httpapi

import (
	"sync"
	"time"
)

// A backoff slows down guessing: after a few failures under one key (an
// account, an address), each further attempt must wait a delay that
// doubles with every failure, up to maxDelay. Success forgets the key, and
// so does a quiet spell of forgetAfter since the last failure.
//
// It holds at most maxKeys keys, so that an attacker who makes up names
// cannot grow it without bound: when full, it forgets the keys whose last
// failure is oldest.
type backoff struct {
	clock Clock

	mu   sync.Mutex
	keys map[string]*failures // guarded by mu
}

type failures struct {
	n    int       // failures in a row
	last time.Time // of the last failure
}

const (
	freeFailures = 5                // failures in a row before any delay
	firstDelay   = time.Second      // the delay after freeFailures failures
	maxDelay     = 15 * time.Minute // the longest delay
	forgetAfter  = time.Hour        // a key this long without failures is forgotten
	maxKeys      = 100_000          // keys kept at most
)

func newBackoff(clock Clock) *backoff {
	return &backoff{clock: clock, keys: map[string]*failures{}}
}

// wait returns how long an attempt under key must wait still: zero if it
// may go ahead now.
func (t *backoff) wait(key string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.keys[key]
	if f == nil || f.n < freeFailures {
		return 0
	}
	delay := firstDelay << min(f.n-freeFailures, 20)
	delay = min(delay, maxDelay)
	return max(0, f.last.Add(delay).Sub(t.clock.Now()))
}

// fail records a failed attempt under each key.
func (t *backoff) fail(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.clock.Now()
	for _, key := range keys {
		f := t.keys[key]
		if f == nil {
			if len(t.keys) >= maxKeys {
				t.prune(now)
			}
			f = &failures{}
			t.keys[key] = f
		}
		if now.Sub(f.last) > forgetAfter {
			f.n = 0
		}
		f.n++
		f.last = now
	}
}

// succeed forgets key's failures.
func (t *backoff) succeed(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.keys, key)
}

// prune forgets the keys quiet for forgetAfter, and if that frees too
// little, the older half of the rest. t.mu is held.
func (t *backoff) prune(now time.Time) {
	for key, f := range t.keys {
		if now.Sub(f.last) > forgetAfter {
			delete(t.keys, key)
		}
	}
	if len(t.keys) < maxKeys*3/4 {
		return
	}
	// The median of the last failures, roughly: keys are visited in a
	// random order, and each older than the running mean goes.
	var sum time.Duration
	for _, f := range t.keys {
		sum += now.Sub(f.last) / maxKeys
	}
	for key, f := range t.keys {
		if now.Sub(f.last) >= sum {
			delete(t.keys, key)
		}
	}
}
