package hub

import (
	"context"
	"slices"
	"sync"
)

// Broker carries publications between the replicas that serve a room. A
// publication is an opaque byte string; the hub packs an entry's sequence
// number and its encoded wire frame into it, so each entry is encoded once
// in the whole cluster.
//
// A Broker may lose publications (Redis pub/sub is at-most-once). The hub
// notices a gap in sequence numbers when a later entry arrives, and fills
// it from the store; a Broker that may have lost publications while no
// later one comes, as when its connection has been down, says so with a
// nil msg (see Subscribe), and the hub catches up from the store.
type Broker interface {
	// Publish sends msg, which is never nil, to every subscriber of room on
	// every replica, this one included. An error means that msg may not
	// have reached every replica; the hub publishes the room's newest entry
	// again later.
	Publish(ctx context.Context, room string, msg []byte) error
	// Subscribe calls deliver for every publication to room, in the order
	// each replica published them, until unsubscribe is called. deliver
	// must not block for long.
	//
	// deliver(nil) means that publications to room may have been lost:
	// the subscriber must catch up from the store. A Broker calls it once
	// its subscription is in place again, as after a reconnection, or for
	// the first time, when Subscribe returned before it was: what is
	// published after the call is delivered, and what was published
	// before is in the store.
	Subscribe(room string, deliver func(msg []byte)) (unsubscribe func())
}

// Local is the Broker of a single replica: Publish calls each subscriber's
// deliver function before it returns. It is safe for concurrent use.
type Local struct {
	mu sync.RWMutex
	// subs holds each room's subscribers. A slice is never changed once
	// stored, so Publish walks it without copying; most rooms have one
	// subscriber, the hub.
	subs map[string][]*localSub // guarded by mu
}

type localSub struct{ deliver func([]byte) }

// NewLocal returns a Broker for a server that runs as one replica.
func NewLocal() *Local {
	return &Local{subs: make(map[string][]*localSub)}
}

// Publish calls every subscriber of room with msg. It never fails.
func (l *Local) Publish(_ context.Context, room string, msg []byte) error {
	l.mu.RLock()
	subs := l.subs[room]
	l.mu.RUnlock()
	for _, s := range subs {
		s.deliver(msg)
	}
	return nil
}

// Subscribe registers deliver for publications to room.
func (l *Local) Subscribe(room string, deliver func(msg []byte)) (unsubscribe func()) {
	s := &localSub{deliver: deliver}
	l.mu.Lock()
	// Clipped, the slice is copied by append, not written in place.
	l.subs[room] = append(slices.Clip(l.subs[room]), s)
	l.mu.Unlock()
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		subs := slices.DeleteFunc(slices.Clone(l.subs[room]), func(t *localSub) bool { return t == s })
		if len(subs) == 0 {
			delete(l.subs, room)
		} else {
			l.subs[room] = subs
		}
	}
}
