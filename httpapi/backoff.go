package httpapi

import (
	"context"
	"sync"
	"time"
)

// A FailureStore keeps the failures of the sign-in backoff for every
// replica (package redis implements it on Redis), so that a guesser whose
// attempts a load balancer spreads over the replicas meets one count.
type FailureStore interface {
	// Failures returns the failures in a row under key and how long ago
	// the last one was: zero and zero when there are none.
	Failures(ctx context.Context, key string) (n int, since time.Duration, err error)
	// Fail records a failure under each key. A key whose last failure is
	// older than forget starts again from one, and a key is forgotten
	// forget after its last failure.
	Fail(ctx context.Context, forget time.Duration, keys ...string) error
	// Forget forgets key's failures.
	Forget(ctx context.Context, key string) error
}

// A backoff slows down guessing: after a few failures under one key (an
// account, an address), each further attempt must wait a delay that
// doubles with every failure, up to maxDelay. Success forgets the key, and
// so does a quiet spell of forgetAfter since the last failure.
//
// It holds at most maxKeys keys, so that an attacker who makes up names
// cannot grow it without bound: when full, it forgets the keys whose last
// failure is oldest.
//
// With a shared FailureStore, the failures are counted there, for every
// replica, and in memory too: when the store does not answer, the
// replica's own count decides, and warn is told.
type backoff struct {
	clock  Clock
	shared FailureStore                 // nil: memory alone; static
	warn   func(name string, err error) // told when shared fails; static

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

// delayAfter returns the delay an attempt waits after n failures in a row.
func delayAfter(n int) time.Duration {
	if n < freeFailures {
		return 0
	}
	return min(firstDelay<<min(n-freeFailures, 20), maxDelay)
}

// wait returns how long an attempt under key must wait still: zero if it
// may go ahead now.
func (t *backoff) wait(ctx context.Context, key string) time.Duration {
	if t.shared != nil {
		ctx, cancel := context.WithTimeout(ctx, limiterTimeout)
		n, since, err := t.shared.Failures(ctx, key)
		cancel()
		if err == nil {
			return max(0, delayAfter(n)-since)
		}
		t.warn("sign-in", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.keys[key]
	if f == nil {
		return 0
	}
	return max(0, f.last.Add(delayAfter(f.n)).Sub(t.clock.Now()))
}

// fail records a failed attempt under each key.
func (t *backoff) fail(ctx context.Context, keys ...string) {
	if t.shared != nil {
		ctx, cancel := context.WithTimeout(ctx, limiterTimeout)
		if err := t.shared.Fail(ctx, forgetAfter, keys...); err != nil {
			t.warn("sign-in", err)
		}
		cancel()
	}
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
func (t *backoff) succeed(ctx context.Context, key string) {
	if t.shared != nil {
		ctx, cancel := context.WithTimeout(ctx, limiterTimeout)
		if err := t.shared.Forget(ctx, key); err != nil {
			t.warn("sign-in", err)
		}
		cancel()
	}
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
