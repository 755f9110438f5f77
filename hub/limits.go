package hub

// Limits of a connection's work: the rooms it may create (LimitRooms), and
// the entries its joins replay (Options.MaxReplay, Options.ReplayBudget).
// A join that is further behind than its limits allow is replayed the
// newest entries it may have, and its joined event says where they start;
// the client reads the older ones from the store over REST, at its pace.
// Live entries follow the replay as ever, so nothing is lost or repeated:
// the client only fetches the middle itself.

import (
	"context"
	"time"
)

// Replay limits unless Options say otherwise. 1,000 entries are five pages
// of the store, about 250 KB of events: a client days behind in a busy
// room catches up in a few joins and REST pages, and ten connections that
// loop join since 0 and leave on a room of 6,250 entries (681 MB in 5 s
// before there was a limit) are held to 10,000 entries a minute each after
// their first.
const (
	defaultMaxReplay    = 1000
	defaultReplayBudget = 10_000
	defaultReplayWindow = time.Minute
)

// LimitRooms makes every join of c that would create a room ask create
// first: an error from it refuses the join, which then changes nothing.
// Call it before c's first join, from its reader.
func (c *Client) LimitRooms(create func(ctx context.Context, room string) error) {
	c.create = create
}

// replayStart returns the sequence number after which a join replays the
// entries up to upto that the client asks for after from: from itself,
// unless there are more than Options.MaxReplay of them, or more than what
// is left of the client's replay budget; then the newest that fit. It
// takes them from the budget.
func (c *Client) replayStart(from, upto int64) int64 {
	n := upto - from
	if n <= 0 {
		return from
	}
	if m := c.h.opts.MaxReplay; m > 0 {
		n = min(n, int64(m))
	}
	if b := c.h.opts.ReplayBudget; b > 0 {
		now := time.Now()
		if c.budgetAt.IsZero() {
			c.budget = float64(b)
		} else {
			refill := float64(b) * float64(now.Sub(c.budgetAt)) / float64(c.h.opts.ReplayWindow)
			c.budget = min(float64(b), c.budget+refill)
		}
		c.budgetAt = now
		n = min(n, int64(c.budget))
		c.budget -= float64(n)
	}
	return upto - n
}
