package hub

import (
	"context"
	"sync"
)

// Broker carries publications between the replicas that serve a room. A
// publication is an opaque byte string; the hub packs an entry's sequence
// number and its encoded wire frame into it, so each entry is encoded once
// in the whole cluster.
//
// A Broker may lose publications (Redis pub/sub is at-most-once): the hub
// notices the gap in sequence numbers and fills it from the store.
type Broker interface {
	// Publish sends msg to every subscriber of room on every replica, this
	// one included.
	Publish(ctx context.Context, room string, msg []byte) error
	// Subscribe calls deliver for every publication to room, in the order
	// each replica published them, until unsubscribe is called. deliver
	// must not block for long.
	Subscribe(room string, deliver func(msg []byte)) (unsubscribe func())
}

// Local is the Broker of a single replica: Publish calls each subscriber's
// deliver function before it returns. It is safe for concurrent use.
type Local struct {
	mu   sync.RWMutex
	subs map[string]map[*localSub]bool // guarded by mu
}

type localSub struct{ deliver func([]byte) }

// NewLocal returns a Broker for a server that runs as one replica.
func NewLocal() *Local {
	return &Local{subs: make(map[string]map[*localSub]bool)}
}

// Publish calls every subscriber of room with msg. It never fails.
func (l *Local) Publish(_ context.Context, room string, msg []byte) error {
	l.mu.RLock()
	subs := make([]*localSub, 0, len(l.subs[room]))
	for s := range l.subs[room] {
		subs = append(subs, s)
	}
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
	if l.subs[room] == nil {
		l.subs[room] = make(map[*localSub]bool)
	}
	l.subs[room][s] = true
	l.mu.Unlock()
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.subs[room], s)
		if len(l.subs[room]) == 0 {
			delete(l.subs, room)
		}
	}
}
