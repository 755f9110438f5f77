package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Defaults of RosterOptions.
const (
	// DefaultTTL is how long an entry stays on the roster after its
	// replica last refreshed it, unless RosterOptions say otherwise: the
	// grace period's length, which it plays the part of when a replica
	// dies.
	DefaultTTL = 15 * time.Second
	// DefaultHeartbeat is how often a replica refreshes its entries and
	// takes off the expired ones of the rooms it has, unless RosterOptions
	// say otherwise: a third of DefaultTTL, so that two heartbeats may
	// fail in a row before its people leave the roster.
	DefaultHeartbeat = 5 * time.Second
)

// Timing of the roster's calls to Redis.
const (
	// rosterCallTimeout bounds one call of Add, Remove, Elsewhere or Online.
	rosterCallTimeout = time.Second
	// keyLifetime is how long a room's roster keys stay in Redis after
	// the last Add or heartbeat that wrote to them, and how long an entry taken off as expired
	// is remembered: long enough that a replica which next has the room
	// finds the expired entries of one that died, and a replica cut off
	// from Redis finds that its people were taken off.
	keyLifetime = 24 * time.Hour
	// beatBatch is how many rooms one heartbeat sends to Redis at once.
	beatBatch = 128
)

// Key prefixes of the roster (see the package doc).
const (
	onlinePrefix = "parley:online:"
	nicksPrefix  = "parley:nicks:"
	sweptPrefix  = "parley:swept:"
	replicasKey  = "parley:replicas"
)

// memberIDLen is the length of the replica id that begins every member of
// a room's roster: 16 hex digits and a space.
const memberIDLen = 17

// RosterOptions tune a Roster. Zero values mean the defaults.
type RosterOptions struct {
	// TTL is how long an entry stays on the roster after its replica last
	// refreshed it: a replica that dies leaves the roster within TTL.
	// Zero means DefaultTTL.
	TTL time.Duration
	// Heartbeat is how often Run refreshes this replica's entries and
	// takes off the expired entries of the rooms watched here. It must be
	// at most half of TTL. Zero means DefaultHeartbeat, or a third of
	// TTL when that is shorter.
	Heartbeat time.Duration
}

// Roster is a hub.Roster shared by the replicas through Redis (see the
// package doc). Its methods are safe for concurrent use.
type Roster struct {
	client    *goredis.Client // static after NewRoster
	logger    *slog.Logger    // static after NewRoster
	addr      string          // where Redis is, for logs: never a password
	replica   string          // 16 hex digits: begins each of this replica's entries; static
	ttl       time.Duration   // static after NewRoster
	heartbeat time.Duration   // static after NewRoster

	// Lock order: a rosterRoom's write, then mu. No mu is held while
	// calling Redis.
	mu    sync.Mutex
	rooms map[string]*rosterRoom // rooms with people here, or watched, or in use; guarded by mu
}

// rosterRoom is a room's roster as this replica knows it.
type rosterRoom struct {
	name string
	keys []string // its Redis keys: online, nicks, swept, and replicasKey

	// write is held across each write of the room's entries to Redis, so
	// that they reach Redis in the order they were made: a heartbeat that
	// read people before a Remove does not put the entry back after it.
	write sync.Mutex

	people   map[string]string // nick by key, of the people online here; guarded by Roster.mu
	watchers []*rosterWatcher  // never changed once stored; guarded by Roster.mu
	refs     int               // watches, and calls and heartbeats under way; guarded by Roster.mu
}

type rosterWatcher struct{ changed func(gone, back []string) }

// NewRoster returns a Roster on the Redis server at rawURL (see
// NewBroker), with an id of its own for this replica. It does no I/O; Run
// keeps the entries alive. Its errors never repeat the URL.
func NewRoster(rawURL string, logger *slog.Logger, opts RosterOptions) (*Roster, error) {
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = min(DefaultHeartbeat, opts.TTL/3)
	}
	if opts.Heartbeat > opts.TTL/2 {
		return nil, fmt.Errorf("roster heartbeat %v is more than half of its TTL %v", opts.Heartbeat, opts.TTL)
	}
	client, err := newClient(rawURL)
	if err != nil {
		return nil, err
	}
	return &Roster{
		client:    client,
		logger:    logger,
		addr:      client.Options().Addr,
		replica:   randomID(),
		ttl:       opts.TTL,
		heartbeat: opts.Heartbeat,
		rooms:     make(map[string]*rosterRoom),
	}, nil
}

// room returns the roster of the room called name, in use until release
// is called.
func (ro *Roster) room(name string) *rosterRoom {
	ro.mu.Lock()
	defer ro.mu.Unlock()
	rr := ro.rooms[name]
	if rr == nil {
		rr = &rosterRoom{
			name:   name,
			keys:   []string{roomKey(onlinePrefix, name), roomKey(nicksPrefix, name), roomKey(sweptPrefix, name), replicasKey},
			people: make(map[string]string),
		}
		ro.rooms[name] = rr
	}
	rr.refs++
	return rr
}

// release ends a use of rr, and forgets it when nothing keeps it.
func (ro *Roster) release(rr *rosterRoom) {
	ro.mu.Lock()
	defer ro.mu.Unlock()
	rr.refs--
	ro.forgetIfIdleLocked(rr)
}

// forgetIfIdleLocked forgets rr when nobody is online in it here, watches
// it, or uses it. ro.mu is held.
func (ro *Roster) forgetIfIdleLocked(rr *rosterRoom) {
	if rr.refs == 0 && len(rr.people) == 0 && len(rr.watchers) == 0 && ro.rooms[rr.name] == rr {
		delete(ro.rooms, rr.name)
	}
}

// ms returns d in whole milliseconds, for scripts.
func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }

// Add records that the person key, shown as nick, is online in room on
// this replica, and reports whether they are online in it on another.
// When Redis fails, Run adds them at its next heartbeat.
func (ro *Roster) Add(ctx context.Context, room, key, nick string) (elsewhere bool, err error) {
	rr := ro.room(room)
	defer ro.release(rr)
	rr.write.Lock()
	defer rr.write.Unlock()
	ro.mu.Lock()
	rr.people[key] = nick
	ro.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, rosterCallTimeout)
	defer cancel()
	n, err := addScript.Run(ctx, ro.client, rr.keys, ro.replica, key, nick, ms(ro.ttl), ms(keyLifetime)).Int()
	if err != nil {
		return false, fmt.Errorf("add to roster: %w", err)
	}
	return n == 1, nil
}

// Remove records that the person key is no longer online in room on this
// replica, and reports whether they are online in it on another. When
// Redis fails, their entry here expires.
func (ro *Roster) Remove(ctx context.Context, room, key string) (elsewhere bool, err error) {
	rr := ro.room(room)
	defer ro.release(rr)
	rr.write.Lock()
	defer rr.write.Unlock()
	ro.mu.Lock()
	delete(rr.people, key)
	ro.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, rosterCallTimeout)
	defer cancel()
	n, err := removeScript.Run(ctx, ro.client, rr.keys, ro.replica, key).Int()
	if err != nil {
		return false, fmt.Errorf("remove from roster: %w", err)
	}
	return n == 1, nil
}

// Elsewhere returns those of the people keys who are online in room on
// another replica, in one round trip.
func (ro *Roster) Elsewhere(ctx context.Context, room string, keys ...string) ([]string, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, rosterCallTimeout)
	defer cancel()
	args := make([]any, 0, 1+len(keys))
	args = append(args, ro.replica)
	for _, key := range keys {
		args = append(args, key)
	}
	there, err := elsewhereScript.Run(ctx, ro.client, []string{roomKey(onlinePrefix, room), replicasKey}, args...).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("ask roster: %w", err)
	}
	return there, nil
}

// Online returns the nicknames of the people online in room on any
// replica, each person once, in no order.
func (ro *Roster) Online(ctx context.Context, room string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, rosterCallTimeout)
	defer cancel()
	keys := []string{roomKey(onlinePrefix, room), roomKey(nicksPrefix, room)}
	pairs, err := onlineScript.Run(ctx, ro.client, keys).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("ask roster who is online: %w", err)
	}
	seen := make(map[string]bool, len(pairs)/2)
	nicks := make([]string, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		member, nick := pairs[i], pairs[i+1]
		key := memberKey(member)
		if seen[key] {
			continue
		}
		seen[key] = true
		nicks = append(nicks, nick)
	}
	return nicks, nil
}

// memberKey returns the person's key of a member of a room's roster.
func memberKey(member string) string {
	if len(member) < memberIDLen {
		return member
	}
	return member[memberIDLen:]
}

// Watch calls changed, from Run's goroutine, with the people of room
// whose entries of another replica this one took off as expired and who
// are online on no replica (gone), and with the people online in room
// here whom another replica had so taken off (back), until unwatch is
// called. Run takes off the expired entries only of the rooms watched.
func (ro *Roster) Watch(room string, changed func(gone, back []string)) (unwatch func()) {
	w := &rosterWatcher{changed}
	rr := ro.room(room)
	ro.mu.Lock()
	// Clipped, the slice is copied by append, not written in place.
	rr.watchers = append(slices.Clip(rr.watchers), w)
	ro.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			ro.mu.Lock()
			rr.watchers = slices.DeleteFunc(slices.Clone(rr.watchers), func(v *rosterWatcher) bool { return v == w })
			ro.mu.Unlock()
			ro.release(rr)
		})
	}
}

// Run beats until ctx is done, then returns nil: once at start, then
// every Heartbeat, it refreshes this replica's entries and takes off the
// expired entries of the rooms watched here (see the package doc). It
// logs when a heartbeat fails, and when one succeeds again. It is called
// once. It leaves this replica's entries when it returns: a replica that
// stops is taken off the roster as one that died is, so that its people
// stay online while they reconnect elsewhere.
func (ro *Roster) Run(ctx context.Context) error {
	tick := time.NewTicker(ro.heartbeat)
	defer tick.Stop()
	failing := false
	for {
		err := ro.beat(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil && !failing:
			failing = true
			ro.logger.Warn("redis roster heartbeat failed; this replica's people leave the roster if it keeps failing",
				"addr", ro.addr, "ttl", ro.ttl, "err", err)
		case err != nil:
			ro.logger.Debug("redis roster heartbeat failed again", "addr", ro.addr, "err", err)
		case failing:
			failing = false
			ro.logger.Info("redis roster heartbeat back", "addr", ro.addr)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// beat refreshes this replica's entries, and takes off the expired
// entries of the rooms watched here, beatBatch rooms at a time, then tells
// the watchers what changed. It returns the first error.
func (ro *Roster) beat(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, ro.heartbeat)
	defer cancel()
	ro.mu.Lock()
	rooms := make([]*rosterRoom, 0, len(ro.rooms))
	for _, rr := range ro.rooms {
		rr.refs++
		rooms = append(rooms, rr)
	}
	ro.mu.Unlock()
	defer func() {
		for _, rr := range rooms {
			ro.release(rr)
		}
	}()
	if err := beatScript.Load(ctx, ro.client).Err(); err != nil {
		return fmt.Errorf("load roster script: %w", err)
	}
	var errs []error
	for batch := range slices.Chunk(rooms, beatBatch) {
		if err := ro.beatBatch(ctx, batch); err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
		}
	}
	return errors.Join(errs...)
}

// beatBatch beats for rooms, in one round trip to Redis.
func (ro *Roster) beatBatch(ctx context.Context, rooms []*rosterRoom) error {
	for _, rr := range rooms {
		rr.write.Lock()
	}
	pipe := ro.client.Pipeline()
	cmds := make([]*goredis.Cmd, len(rooms))
	watchers := make([][]*rosterWatcher, len(rooms))
	ro.mu.Lock()
	for i, rr := range rooms {
		watchers[i] = rr.watchers
		watched := "0"
		if len(rr.watchers) > 0 {
			watched = "1"
		}
		args := make([]any, 0, 4+2*len(rr.people))
		args = append(args, ro.replica, ms(ro.ttl), ms(keyLifetime), watched)
		for key, nick := range rr.people {
			args = append(args, key, nick)
		}
		cmds[i] = beatScript.EvalSha(ctx, pipe, rr.keys, args...)
	}
	ro.mu.Unlock()
	_, err := pipe.Exec(ctx)
	for _, rr := range rooms {
		rr.write.Unlock()
	}
	if err != nil {
		return fmt.Errorf("roster heartbeat: %w", err)
	}
	for i, cmd := range cmds {
		gone, back, err := beatResult(cmd)
		if err != nil {
			return fmt.Errorf("roster heartbeat of room %q: %w", rooms[i].name, err)
		}
		if len(gone) == 0 && len(back) == 0 {
			continue
		}
		for _, w := range watchers[i] {
			w.changed(gone, back)
		}
	}
	return nil
}

// beatResult decodes what beatScript returns: two lists of nicknames.
func beatResult(cmd *goredis.Cmd) (gone, back []string, err error) {
	v, err := cmd.Slice()
	if err != nil {
		return nil, nil, err
	}
	lists := make([][]string, 2)
	for i := range lists {
		if i >= len(v) {
			break
		}
		items, _ := v[i].([]any)
		for _, item := range items {
			if s, ok := item.(string); ok {
				lists[i] = append(lists[i], s)
			}
		}
	}
	return lists[0], lists[1], nil
}

// Close closes the connections to Redis. Call it once Run has returned.
func (ro *Roster) Close() error {
	return ro.client.Close()
}

// The scripts below run in Redis, each as one step that no other command
// interleaves with; every time is Redis's own (TIME), so that the
// replicas' clocks need not agree. A room's keys are KEYS[1] its online
// sorted set, KEYS[2] its nicks hash, KEYS[3] its swept sorted set, and
// KEYS[4] the replicas sorted set (see the package doc); ARGV[1] is the
// calling replica's id.

// rosterLib is the functions the scripts share.
const rosterLib = `
local function now_ms()
	local t = redis.call('TIME')
	return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- others returns the live replicas but me.
local function others(replicas, me, now)
	local out = {}
	for _, r in ipairs(redis.call('ZRANGEBYSCORE', replicas, '(' .. now, '+inf')) do
		if r ~= me then
			table.insert(out, r)
		end
	end
	return out
end

-- has reports whether key has a live entry, in the room whose online set
-- is online, of one of replicas.
local function has(online, replicas, key, now)
	for _, r in ipairs(replicas) do
		local s = redis.call('ZSCORE', online, r .. ' ' .. key)
		if s and tonumber(s) > now then
			return true
		end
	end
	return false
end

-- elsewhere reports whether key has a live entry in the room whose online
-- set is online, of a live replica other than me.
local function elsewhere(online, replicas, me, key, now)
	return has(online, others(replicas, me, now), key, now)
end

-- keep makes the room's keys, and the replicas set, last lifetime ms more.
local function keep(lifetime)
	for i = 1, 4 do
		redis.call('PEXPIRE', KEYS[i], lifetime)
	end
end
`

// addScript: ARGV[2] the person's key, ARGV[3] their nick, ARGV[4] the
// TTL and ARGV[5] the key lifetime in ms. It returns 1 when the person is
// online on another replica.
var addScript = goredis.NewScript(rosterLib + `
local now = now_ms()
local expires = now + tonumber(ARGV[4])
local member = ARGV[1] .. ' ' .. ARGV[2]
redis.call('ZADD', KEYS[4], expires, ARGV[1])
redis.call('ZADD', KEYS[1], expires, member)
redis.call('HSET', KEYS[2], member, ARGV[3])
redis.call('ZREM', KEYS[3], member)
keep(ARGV[5])
if elsewhere(KEYS[1], KEYS[4], ARGV[1], ARGV[2], now) then
	return 1
end
return 0
`)

// removeScript: ARGV[2] the person's key. It returns 1 when the person is
// online on another replica.
var removeScript = goredis.NewScript(rosterLib + `
local now = now_ms()
local member = ARGV[1] .. ' ' .. ARGV[2]
redis.call('ZREM', KEYS[1], member)
redis.call('HDEL', KEYS[2], member)
redis.call('ZREM', KEYS[3], member)
if elsewhere(KEYS[1], KEYS[4], ARGV[1], ARGV[2], now) then
	return 1
end
return 0
`)

// elsewhereScript: KEYS[1] the room's online set, KEYS[2] the replicas
// set; ARGV[2] and on, people's keys. It returns those of the keys online
// on another replica.
var elsewhereScript = goredis.NewScript(rosterLib + `
local now = now_ms()
local replicas = others(KEYS[2], ARGV[1], now)
local out = {}
for i = 2, #ARGV do
	if has(KEYS[1], replicas, ARGV[i], now) then
		table.insert(out, ARGV[i])
	end
end
return out
`)

// onlineScript: KEYS[1] the room's online set, KEYS[2] its nicks hash. It
// returns each live entry and its nick, one after the other.
var onlineScript = goredis.NewScript(rosterLib + `
local out = {}
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now_ms(), '+inf')) do
	table.insert(out, member)
	table.insert(out, redis.call('HGET', KEYS[2], member) or string.sub(member, 18))
end
return out
`)

// beatScript: ARGV[2] the TTL and ARGV[3] the key lifetime in ms, ARGV[4]
// "1" when the room is watched here, then each person online in the room
// here, key and nick. It refreshes the replica's entries, then, in a room
// watched, takes off the expired entries of every replica. It returns
// two lists of nicks: gone, the people it took off who have no live entry
// left; and back, the people here whose entries it put back after another
// replica took them off.
var beatScript = goredis.NewScript(rosterLib + `
local now = now_ms()
local me = ARGV[1]
local expires = now + tonumber(ARGV[2])
local lifetime = tonumber(ARGV[3])
redis.call('ZADD', KEYS[4], expires, me)
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - lifetime)
local back = {}
for i = 5, #ARGV, 2 do
	local member = me .. ' ' .. ARGV[i]
	if redis.call('ZADD', KEYS[1], expires, member) == 1 and redis.call('ZREM', KEYS[3], member) == 1 then
		table.insert(back, ARGV[i + 1])
	end
	redis.call('HSET', KEYS[2], member, ARGV[i + 1])
end
local gone = {}
if ARGV[4] == '1' then
	local seen = {}
	for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)) do
		local key = string.sub(member, 18)
		local nick = redis.call('HGET', KEYS[2], member) or key
		redis.call('ZREM', KEYS[1], member)
		redis.call('HDEL', KEYS[2], member)
		redis.call('ZADD', KEYS[3], now, member)
		if not seen[key] and not elsewhere(KEYS[1], KEYS[4], '', key, now) then
			seen[key] = true
			table.insert(gone, nick)
		end
	end
	redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - lifetime)
end
keep(lifetime)
return {gone, back}
`)
