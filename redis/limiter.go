package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Limiter counts events under keys in Redis, so that limits per address
// and per person hold for every replica together: it satisfies
// httpapi.Limiter. Each key is one Redis string, parley:limit:KEY, holding
// the generic cell rate algorithm's theoretical arrival time of the next
// event, in microseconds by Redis's clock, and expiring once that time has
// passed, when the key would count as new anyway. One script reads and
// writes it in one step, so replicas never count one event twice or miss
// one, and their clocks need not agree.
//
// Allow fails when Redis does not answer within its context; the caller
// decides what a failure means (package httpapi then limits on its own
// replica alone, and logs it).
type Limiter struct {
	client *goredis.Client // static after NewLimiter
}

// NewLimiter returns a Limiter on the Redis server at rawURL (see
// NewBroker). It does no I/O; Close releases its connections.
func NewLimiter(rawURL string) (*Limiter, error) {
	client, err := newClient(rawURL)
	if err != nil {
		return nil, err
	}
	return &Limiter{client: client}, nil
}

// limitPrefix starts the key of every limit.
const limitPrefix = "parley:limit:"

// allowScript takes one event under KEYS[1] if it fits: ARGV[1] is the
// interval between events in microseconds, ARGV[2] the window (the burst
// times the interval). It returns -1 when it took the event, else the
// microseconds until it would. Numbers are written with %.0f: Lua's
// tostring would round microseconds since 1970 to 14 digits.
var allowScript = goredis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local per = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local nxt = tat + interval
local at = nxt - per
if at > now then return at - now end
redis.call('SET', KEYS[1], string.format('%.0f', nxt), 'PX', string.format('%.0f', math.ceil((nxt - now) / 1000)))
return -1
`)

// Allow takes one event under key if the rate of n every per allows it (a
// burst of n, then one every per/n), and reports whether it did; when not,
// retry is how long until it would.
func (l *Limiter) Allow(ctx context.Context, key string, n int, per time.Duration) (ok bool, retry time.Duration, err error) {
	interval := max(1, per.Microseconds()/int64(n))
	wait, err := allowScript.Run(ctx, l.client, []string{limitPrefix + key}, interval, interval*int64(n)).Int64()
	if err != nil {
		return false, 0, fmt.Errorf("redis limit: %w", err)
	}
	if wait < 0 {
		return true, 0, nil
	}
	return false, time.Duration(wait) * time.Microsecond, nil
}

// Close closes the limiter's connections.
func (l *Limiter) Close() error { return l.client.Close() }
