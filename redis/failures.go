package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Failures keeps the failed sign-ins that slow down guessing, for every
// replica together: it satisfies httpapi.FailureStore. Each key is one
// Redis hash, parley:fail:KEY, with the failures in a row (n) and the time
// of the last (last, in milliseconds by Redis's clock), expiring once the
// failures are forgotten. Scripts read and write it in one step, so that
// replicas never lose each other's failures.
type Failures struct {
	client *goredis.Client // static after NewFailures
}

// NewFailures returns a Failures on the Redis server at rawURL (see
// NewBroker). It does no I/O; Close releases its connections.
func NewFailures(rawURL string) (*Failures, error) {
	client, err := newClient(rawURL)
	if err != nil {
		return nil, err
	}
	return &Failures{client: client}, nil
}

// failPrefix starts the key of every count of failures.
const failPrefix = "parley:fail:"

// failuresScript returns the failures under KEYS[1] and the milliseconds
// since the last one, or 0 and 0.
var failuresScript = goredis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local v = redis.call('HMGET', KEYS[1], 'n', 'last')
if not v[1] then return {0, 0} end
return {tonumber(v[1]), now - tonumber(v[2])}
`)

// failScript records a failure under each of KEYS; ARGV[1] is how long a
// count lasts after its last failure, in milliseconds.
var failScript = goredis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local forget = tonumber(ARGV[1])
for _, key in ipairs(KEYS) do
  local v = redis.call('HMGET', key, 'n', 'last')
  local n = tonumber(v[1] or '0')
  if v[2] and now - tonumber(v[2]) > forget then n = 0 end
  redis.call('HSET', key, 'n', n + 1, 'last', string.format('%.0f', now))
  redis.call('PEXPIRE', key, forget)
end
return 0
`)

// Failures returns the failures in a row under key, and how long ago the
// last one was.
func (f *Failures) Failures(ctx context.Context, key string) (n int, since time.Duration, err error) {
	v, err := failuresScript.Run(ctx, f.client, []string{failPrefix + key}).Int64Slice()
	if err != nil {
		return 0, 0, fmt.Errorf("redis failures: %w", err)
	}
	return int(v[0]), time.Duration(v[1]) * time.Millisecond, nil
}

// Fail records a failure under each key, forgotten forget after the last.
func (f *Failures) Fail(ctx context.Context, forget time.Duration, keys ...string) error {
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = failPrefix + k
	}
	// The keys are hashes of one person or address each; one script for
	// all of them is one round trip.
	if err := failScript.Run(ctx, f.client, full, forget.Milliseconds()).Err(); err != nil {
		return fmt.Errorf("redis fail: %w", err)
	}
	return nil
}

// Forget forgets key's failures.
func (f *Failures) Forget(ctx context.Context, key string) error {
	if err := f.client.Del(ctx, failPrefix+key).Err(); err != nil {
		return fmt.Errorf("redis forget failures: %w", err)
	}
	return nil
}

// Close closes its connections.
func (f *Failures) Close() error { return f.client.Close() }
