package redis

import (
	"context"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/redistest"
)

func newLimiter(t *testing.T, url string) *Limiter {
	t.Helper()
	l, err := NewLimiter(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// TestLimiterShared: two limiters on one Redis, as two replicas, count one
// key together: a burst of n in all, then a refusal on either that says
// to wait no longer than one interval; other keys count apart. The window
// is an hour, so that nothing comes back while the test runs.
func TestLimiterShared(t *testing.T) {
	srv := redistest.Start(t)
	a, b := newLimiter(t, srv.URL()), newLimiter(t, srv.URL())
	ctx := context.Background()
	const n, per = 3, time.Hour
	for i, l := range []*Limiter{a, b, a} {
		if ok, _, err := l.Allow(ctx, "connect:192.0.2.1", n, per); !ok || err != nil {
			t.Fatalf("Allow() #%d = %v, %v; want allowed: %d of a burst of %d", i+1, ok, err, i+1, n)
		}
	}
	for _, l := range []*Limiter{a, b} {
		ok, retry, err := l.Allow(ctx, "connect:192.0.2.1", n, per)
		if ok || err != nil {
			t.Fatalf("Allow() beyond the burst = %v, %v; want refused", ok, err)
		}
		if retry <= 0 || retry > per/n {
			t.Errorf("Allow() beyond the burst says retry in %v, want within one interval, %v", retry, per/n)
		}
	}
	if ok, _, err := b.Allow(ctx, "connect:192.0.2.2", n, per); !ok || err != nil {
		t.Errorf("Allow() of another key = %v, %v; want allowed", ok, err)
	}

	// The key expires once its time has passed: an hour's worth here.
	client := a.client
	ttl, err := client.PTTL(ctx, limitPrefix+"connect:192.0.2.1").Result()
	if err != nil || ttl <= 0 || ttl > per+time.Second {
		t.Errorf("PTTL(key) = %v, %v; want an expiry within the window, %v", ttl, err, per)
	}
	if v, err := client.Get(ctx, limitPrefix+"connect:192.0.2.1").Int64(); err != nil || v < 1e15 {
		t.Errorf("GET(key) = %d, %v; want microseconds since 1970, an integer", v, err)
	}
}

// TestLimiterDown: a limiter whose Redis does not answer says so with an
// error, within its context's time, and counts again once Redis is back.
func TestLimiterDown(t *testing.T) {
	srv := redistest.Start(t)
	l := newLimiter(t, srv.URL())
	srv.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if ok, _, err := l.Allow(ctx, "k", 1, time.Hour); err == nil {
		t.Fatalf("Allow() with Redis stopped = %v, nil; want an error", ok)
	}
	srv.Restart()
	if ok, _, err := l.Allow(context.Background(), "k", 1, time.Hour); !ok || err != nil {
		t.Errorf("Allow() once Redis is back = %v, %v; want allowed", ok, err)
	}
}

// TestFailuresShared: two replicas' failure counts are one: failures
// recorded on either add up, read on both; a count whose last failure is
// older than forget starts again; Forget ends it.
func TestFailuresShared(t *testing.T) {
	srv := redistest.Start(t)
	newFailures := func() *Failures {
		f, err := NewFailures(srv.URL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	a, b := newFailures(), newFailures()
	ctx := context.Background()
	if n, since, err := a.Failures(ctx, "account ana"); n != 0 || since != 0 || err != nil {
		t.Fatalf("Failures() of nobody = %d, %v, %v; want 0, 0, nil", n, since, err)
	}
	for _, f := range []*Failures{a, b, a} {
		if err := f.Fail(ctx, time.Hour, "account ana", "address 192.0.2.1"); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []*Failures{a, b} {
		n, since, err := f.Failures(ctx, "account ana")
		if n != 3 || since < 0 || since > time.Minute || err != nil {
			t.Errorf("Failures() after 3 on two replicas = %d, %v, %v; want 3, just now", n, since, err)
		}
	}
	if n, _, _ := b.Failures(ctx, "address 192.0.2.1"); n != 3 {
		t.Errorf("Failures() of the second key = %d, want 3", n)
	}
	// A count forgotten after a millisecond: the next failure, a
	// millisecond or more later on Redis's clock, starts again. Redis's
	// clock is the one that counts, so the test asks it.
	if err := a.Fail(ctx, time.Millisecond, "bob"); err != nil {
		t.Fatal(err)
	}
	start, _ := a.client.Time(ctx).Result()
	for {
		now, err := a.client.Time(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		if now.Sub(start) > 2*time.Millisecond {
			break
		}
	}
	// The key may have expired already; either way the count restarts.
	if err := a.Fail(ctx, time.Millisecond, "bob"); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := a.Failures(ctx, "bob"); n > 1 {
		t.Errorf("Failures() after a failure past forget = %d, want 1 or 0 (expired)", n)
	}
	if err := b.Forget(ctx, "account ana"); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := a.Failures(ctx, "account ana"); n != 0 {
		t.Errorf("Failures() after Forget = %d, want 0", n)
	}
}
