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
