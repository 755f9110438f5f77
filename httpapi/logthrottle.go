package httpapi

import (
	"context"
	"log/slog"
	"sync/atomic"

	"golang.org/x/time/rate"
)

// Error lines are let through at most errorLogRate a second on average,
// errorLogBurst at once. A store that fails every write would otherwise
// write a line for every frame of every client (2,552 lines in 8 s when
// tried with a full disk), drowning the first, useful one.
const (
	errorLogRate  = 1
	errorLogBurst = 10
)

// throttle returns a handler that passes h's records below the error level
// as they come, and its error records at a bounded rate, timed by clock.
// The first error record after some were dropped says how many, as
// "dropped_before".
func throttle(h slog.Handler, clock Clock) slog.Handler {
	return &throttled{Handler: h, s: &throttleState{lim: rate.NewLimiter(errorLogRate, errorLogBurst), clock: clock}}
}

type throttled struct {
	slog.Handler
	s *throttleState // shared with the handlers WithAttrs and WithGroup make
}

type throttleState struct {
	lim     *rate.Limiter
	clock   Clock
	dropped atomic.Int64
}

func (t *throttled) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelError {
		return t.Handler.Handle(ctx, r)
	}
	if !t.s.lim.AllowN(t.s.clock.Now(), 1) {
		t.s.dropped.Add(1)
		return nil
	}
	if n := t.s.dropped.Swap(0); n > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int64("dropped_before", n))
	}
	return t.Handler.Handle(ctx, r)
}

func (t *throttled) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &throttled{Handler: t.Handler.WithAttrs(attrs), s: t.s}
}

func (t *throttled) WithGroup(name string) slog.Handler {
	return &throttled{Handler: t.Handler.WithGroup(name), s: t.s}
}
