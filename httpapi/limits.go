package httpapi

// Limits that hold against abuse: how many WebSockets one address may hold
// and open, how many messages one person may send over all their
// connections, how many rooms an address or a person may create, and how
// many guest sessions and accounts an address may start. Each refusal is
// the documented rate_limited error (HTTP 429 with Retry-After, or a
// WebSocket error event), whose message says which limit it is and when to
// try again. docs/OPERATIONS.md lists them with their settings.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley"
)

// A Rate allows N events every Per: a burst of N, then one every Per/N
// (a token bucket of N that fills at N every Per). The zero Rate allows
// everything.
type Rate struct {
	N   int
	Per time.Duration
}

// On reports whether r limits anything.
func (r Rate) On() bool { return r.N > 0 && r.Per > 0 }

// String returns r as ParseRate reads it: "30/10s", "20/1h", or "off".
func (r Rate) String() string {
	if !r.On() {
		return "off"
	}
	return strconv.Itoa(r.N) + "/" + shortDuration(r.Per)
}

// ParseRate reads a rate written N/DURATION, such as 30/10s or 120/1m (a
// Go duration; a bare unit, 120/m, means one of it), or off (or 0) for no
// limit.
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if s == "off" || s == "0" {
		return Rate{}, nil
	}
	n, per, ok := strings.Cut(s, "/")
	if !ok {
		return Rate{}, fmt.Errorf("rate %q is not N/DURATION (such as 30/10s) or off", s)
	}
	count, err := strconv.Atoi(n)
	if err != nil || count < 0 {
		return Rate{}, fmt.Errorf("rate %q: %q is not a count", s, n)
	}
	if per != "" && (per[0] < '0' || per[0] > '9') {
		per = "1" + per
	}
	d, err := time.ParseDuration(per)
	if err != nil || d <= 0 {
		return Rate{}, fmt.Errorf("rate %q: %q is not a positive duration such as 10s, 1m or 1h", s, per)
	}
	if count > 0 && d/time.Duration(count) < time.Microsecond {
		return Rate{}, fmt.Errorf("rate %q is more than one a microsecond", s)
	}
	return Rate{N: count, Per: d}, nil
}

// shortDuration writes d as 10s, 1m or 1h rather than 1m0s or 1h0m0s.
func shortDuration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return d.String()
}

// Limits bound what one address or one person may do. The zero Limits
// limits nothing; cmd/parley starts from DefaultLimits.
type Limits struct {
	// Connections is the most WebSockets one address may hold open at once
	// on this replica; zero means no limit. (It is counted per replica: a
	// crashed replica's connections would otherwise stay counted.)
	Connections int
	// Connect is how fast one address may open WebSockets.
	Connect Rate
	// Messages is how fast one person (an account, or a guest's nickname)
	// may send messages, over all their connections on every replica.
	Messages Rate
	// Rooms is how fast one address, and one person, may create rooms.
	Rooms Rate
	// Guests is how fast one address may start guest sessions and make
	// accounts, each of which holds a name.
	Guests Rate
}

// DefaultLimits are the limits of a server unless its settings say
// otherwise; docs/OPERATIONS.md says why each is what it is.
var DefaultLimits = Limits{
	Connections: 100,
	Connect:     Rate{120, time.Minute},
	Messages:    Rate{30, 10 * time.Second},
	Rooms:       Rate{20, time.Hour},
	Guests:      Rate{30, time.Hour},
}

// A Limiter counts events under keys, for limits that the replicas of a
// server share (package redis implements it on Redis). Allow takes one
// event under key if the rate of n every per allows it (a burst of n, then
// one every per/n, as Rate), and reports whether it did; when it
// did not, retry is how long until it would. An error means the limiter
// could not be asked; the server then counts on this replica alone.
type Limiter interface {
	Allow(ctx context.Context, key string, n int, per time.Duration) (ok bool, retry time.Duration, err error)
}

// limiterTimeout bounds one question to a shared Limiter: a limit is not
// worth holding a request for.
const limiterTimeout = 500 * time.Millisecond

// limits enforces Options.Limits for one server.
type limits struct {
	Limits
	shared Limiter            // Options.Limiter, or nil; static
	local  *memLimiter        // counts when shared is nil or fails; static
	logger *slog.Logger       // static
	obs    func(limit string) // told of each refusal; static

	mu    sync.Mutex
	conns map[string]int // open WebSockets by address key; guarded by mu

	warnMu   sync.Mutex
	warnedAt time.Time // of the last warning that shared fails; guarded by warnMu
	unwarned int       // failures since; guarded by warnMu
}

// warnEvery spaces the warnings that the shared limiter fails: while
// Redis is down, every frame would otherwise log one.
const warnEvery = 10 * time.Second

// warn logs that the shared limiter failed, at most once in warnEvery.
func (l *limits) warn(name string, err error) {
	l.warnMu.Lock()
	now := time.Now()
	if now.Sub(l.warnedAt) < warnEvery {
		l.unwarned++
		l.warnMu.Unlock()
		return
	}
	l.warnedAt = now
	n := l.unwarned
	l.unwarned = 0
	l.warnMu.Unlock()
	l.logger.Warn("shared limiter does not answer; limiting on this replica alone",
		"limit", name, "err", err, "failures_not_logged", n)
}

func newLimits(logger *slog.Logger, opts *Options) *limits {
	l := &limits{
		shared: opts.Limiter,
		local:  newMemLimiter(opts.Clock),
		logger: logger,
		obs:    func(string) {},
		conns:  make(map[string]int),
	}
	if opts.Limits != nil {
		l.Limits = *opts.Limits
	}
	if o, ok := opts.Observer.(LimitObserver); ok {
		l.obs = o.Limited
	}
	return l
}

// limitedError is a rate_limited error with the time to wait.
type limitedError struct {
	err   error
	retry time.Duration
}

func (e *limitedError) Error() string { return e.err.Error() }
func (e *limitedError) Unwrap() error { return e.err }

// retryAfter returns how long err, a refusal by a limit, asks to wait, and
// whether it is one.
func retryAfter(err error) (time.Duration, bool) {
	var le *limitedError
	if errors.As(err, &le) {
		return le.retry, true
	}
	return 0, false
}

// seconds rounds d up to whole seconds, at least one.
func seconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}

// allow takes one event of rate under key, the limit's name followed by
// whose it is. A refusal is a rate_limited error saying that there were too
// many of what, the rate, and when to retry. A Limiter that fails is
// logged, and this replica's count decides.
func (l *limits) allow(ctx context.Context, rate Rate, name, key, what string) error {
	if !rate.On() {
		return nil
	}
	key = name + ":" + key
	var ok bool
	var retry time.Duration
	var err error
	if l.shared != nil {
		ctx, cancel := context.WithTimeout(ctx, limiterTimeout)
		ok, retry, err = l.shared.Allow(ctx, key, rate.N, rate.Per)
		cancel()
		if err != nil {
			l.warn(name, err)
		}
	}
	if l.shared == nil || err != nil {
		ok, retry, _ = l.local.Allow(ctx, key, rate.N, rate.Per)
	}
	if ok {
		return nil
	}
	l.obs(name)
	s := seconds(retry)
	unit := "seconds"
	if s == 1 {
		unit = "second"
	}
	return &limitedError{
		err: parley.Errorf(parley.TooMany, "Too many %s: the limit is %d every %s. Try again in %d %s.",
			what, rate.N, shortDuration(rate.Per), s, unit),
		retry: time.Duration(s) * time.Second,
	}
}

// addrKey names the address a for limits: an IPv4 address itself, an IPv6
// address its /64 network, which one subscriber usually holds whole.
func addrKey(a netip.Addr) string {
	switch {
	case !a.IsValid():
		return "local" // a Unix socket: whatever is in front of it
	case a.Is4():
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// connect takes a WebSocket slot of r's address, when the limits allow a
// new connection from it, and returns the function that gives the slot
// back, to call once when the connection ends.
func (l *limits) connect(r *http.Request) (release func(), err error) {
	key := addrKey(ClientAddr(r))
	if l.Connections > 0 {
		l.mu.Lock()
		full := l.conns[key] >= l.Connections
		if !full {
			l.conns[key]++
		}
		l.mu.Unlock()
		if full {
			l.obs("connections")
			return nil, &limitedError{
				err: parley.Errorf(parley.TooMany, "Too many connections from your address: at most %d at once. Close one, then try again.",
					l.Connections),
				retry: time.Second,
			}
		}
	}
	release = func() {}
	if l.Connections > 0 {
		var once sync.Once
		release = func() {
			once.Do(func() {
				l.mu.Lock()
				if l.conns[key]--; l.conns[key] <= 0 {
					delete(l.conns, key)
				}
				l.mu.Unlock()
			})
		}
	}
	if err := l.allow(r.Context(), l.Connect, "connect", key, "new connections from your address"); err != nil {
		release()
		return nil, err
	}
	return release, nil
}

// message takes one message of the person whose nickname is nick.
func (l *limits) message(ctx context.Context, nick string) error {
	return l.allow(ctx, l.Messages, "messages", parley.NickKey(nick), "messages from you (over all your connections)")
}

// room takes one room creation by the person whose nickname is nick from
// addr.
func (l *limits) room(ctx context.Context, addr netip.Addr, nick string) error {
	if err := l.allow(ctx, l.Rooms, "rooms", addrKey(addr), "new rooms from your address"); err != nil {
		return err
	}
	return l.allow(ctx, l.Rooms, "rooms-person", parley.NickKey(nick), "new rooms from you")
}

// guest takes one new name (a guest session or an account) from addr.
func (l *limits) guest(ctx context.Context, addr netip.Addr) error {
	return l.allow(ctx, l.Guests, "names", addrKey(addr), "new guests and accounts from your address")
}

// writeLimited writes err, setting Retry-After when it is a limit's.
func writeLimited(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	if retry, ok := retryAfter(err); ok {
		w.Header().Set("Retry-After", strconv.Itoa(seconds(retry)))
	}
	writeError(w, r, logger, err)
}

// memLimiter is a Limiter in this process's memory: the generic cell rate
// algorithm, which keeps one time per key, the theoretical arrival time of
// the next event. A key whose time has passed counts as new, so it is
// dropped when the map is full; an attacker who makes up keys then finds,
// at worst, that keys are forgotten at random beyond memLimiterKeys.
type memLimiter struct {
	clock Clock

	mu  sync.Mutex
	tat map[string]time.Time // guarded by mu
}

// memLimiterKeys bounds a memLimiter's keys: about 10 MB.
const memLimiterKeys = 100_000

func newMemLimiter(clock Clock) *memLimiter {
	return &memLimiter{clock: clock, tat: make(map[string]time.Time)}
}

// Allow implements Limiter; it never fails.
func (l *memLimiter) Allow(_ context.Context, key string, n int, per time.Duration) (bool, time.Duration, error) {
	now := l.clock.Now()
	interval := per / time.Duration(n)
	l.mu.Lock()
	defer l.mu.Unlock()
	tat, ok := l.tat[key]
	if !ok || tat.Before(now) {
		tat = now
	}
	next := tat.Add(interval)
	if at := next.Add(-per); at.After(now) {
		return false, at.Sub(now), nil
	}
	if !ok && len(l.tat) >= memLimiterKeys {
		l.prune(now)
	}
	l.tat[key] = next
	return true, 0, nil
}

// prune drops the keys whose time has passed, and if that frees too few,
// half of the others. l.mu is held.
func (l *memLimiter) prune(now time.Time) {
	for key, tat := range l.tat {
		if !tat.After(now) {
			delete(l.tat, key)
		}
	}
	for key := range l.tat {
		if len(l.tat) < memLimiterKeys/2 {
			break
		}
		delete(l.tat, key) // in map order: at random
	}
}
