package hub

import (
	"context"
	"log/slog"
	"time"

	"github.com/parley-chat/parley"
)

// Options tune a Hub. The zero value is not useful; see DefaultOptions.
type Options struct {
	// Grace is how long a person stays online in a room after their last
	// connection to it has gone, so that a reload makes no noise.
	Grace time.Duration
	// Guests allows hello with a bare nickname.
	Guests bool
}

// Hub connects clients to rooms. (API pinned; implementation in progress.)
type Hub struct{}

// New returns a Hub that stores entries in store and reaches other replicas
// through broker.
func New(store parley.Store, broker Broker, logger *slog.Logger, opts Options) *Hub {
	return &Hub{}
}

// Run does the hub's background work until ctx is done, then returns nil.
func (h *Hub) Run(ctx context.Context) error { <-ctx.Done(); return nil }

// Close disconnects every client with close code 1001 (going away).
func (h *Hub) Close() {}

// Wait blocks until every client has disconnected or ctx is done.
func (h *Hub) Wait(ctx context.Context) error { return nil }

// Broker carries publications between replicas.
type Broker interface{}

// Local is the Broker of a single replica.
type Local struct{}

// NewLocal returns a Broker for one replica.
func NewLocal() *Local { return &Local{} }
