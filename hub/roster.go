package hub

import (
	"context"
	"sort"
	"sync"
)

// Roster is who is online in each room on every replica. Each replica's
// hub tells it who is online in a room on that replica (Add, Remove), and
// asks it who is online in a room anywhere (Online, Elsewhere). The hub
// keeps who is connected where itself, with the grace periods; the roster
// is only for the answers about the whole cluster.
//
// A person is known by their folded nickname, key (parley.NickKey), and
// shown by nick, their nickname as one of their connections gave it. A
// Roster need not fold nicknames itself.
//
// A Roster of several replicas must notice a replica that has died, or
// lost the roster for too long, and take its people off: Watch says to
// whom, and how. When a Roster fails, the hub decides as one replica
// would, as if the person were online on no other.
//
// [LocalRoster] is the Roster of one replica, and the default; package
// redis has one shared by replicas through Redis.
type Roster interface {
	// Add records that the person key, shown as nick, is online in room on
	// this replica, and reports whether they were online in it on
	// another replica already.
	Add(ctx context.Context, room, key, nick string) (elsewhere bool, err error)
	// Remove records that the person key is no longer online in room on
	// this replica, and reports whether they are online in it on another
	// replica, both in one step: of two replicas that remove the same
	// person at once, one is told that the other has them, or neither
	// is.
	Remove(ctx context.Context, room, key string) (elsewhere bool, err error)
	// Elsewhere returns those of the people keys who are online in room
	// on a replica other than this one, in one step.
	Elsewhere(ctx context.Context, room string, keys ...string) ([]string, error)
	// Online returns the nicknames of the people online in room on any
	// replica, this one included, each person once, in any order.
	Online(ctx context.Context, room string) ([]string, error)
	// Watch calls changed when people of room change replica without
	// telling the roster, until unwatch is called. The hub watches every
	// room it has. changed is called from the roster's own goroutine, and
	// must not block.
	//
	// gone names people whose entries of another replica the roster took
	// off because that replica stopped keeping them (it died, or could
	// not reach the roster for too long), and who are online on no
	// replica now: they went offline, and their leave is this replica's
	// to store. Of all the replicas that watch the room, exactly one is
	// told of each.
	//
	// back names people online in room on this replica whom another
	// replica had so taken off while this one could not reach the
	// roster, and whom the roster has now again: they came back.
	Watch(room string, changed func(gone, back []string)) (unwatch func())
}

// LocalRoster is the Roster of a single replica: who is online in a room
// is who is online in it here, nobody is online elsewhere, and nobody
// changes replica. It is safe for concurrent use.
type LocalRoster struct {
	mu    sync.Mutex
	rooms map[string]map[string]string // nick by key, by room; guarded by mu
}

// NewLocalRoster returns a Roster for a server that runs as one replica.
func NewLocalRoster() *LocalRoster {
	return &LocalRoster{rooms: make(map[string]map[string]string)}
}

// Add records that key is online in room. It never fails, and reports
// false: there is no other replica.
func (l *LocalRoster) Add(_ context.Context, room, key, nick string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	people := l.rooms[room]
	if people == nil {
		people = make(map[string]string)
		l.rooms[room] = people
	}
	people[key] = nick
	return false, nil
}

// Remove records that key is no longer online in room. It never fails,
// and reports false.
func (l *LocalRoster) Remove(_ context.Context, room, key string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.rooms[room], key)
	if len(l.rooms[room]) == 0 {
		delete(l.rooms, room)
	}
	return false, nil
}

// Elsewhere returns nobody: there is no other replica.
func (l *LocalRoster) Elsewhere(context.Context, string, ...string) ([]string, error) {
	return nil, nil
}

// Online returns the nicknames of the people added to room and not
// removed, sorted. It never fails.
func (l *LocalRoster) Online(_ context.Context, room string) ([]string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	nicks := make([]string, 0, len(l.rooms[room]))
	for _, nick := range l.rooms[room] {
		nicks = append(nicks, nick)
	}
	sort.Strings(nicks)
	return nicks, nil
}

// Watch never calls changed: with one replica, nobody changes replica.
func (l *LocalRoster) Watch(string, func(gone, back []string)) (unwatch func()) {
	return func() {}
}
