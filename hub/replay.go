package hub

// Replay: a client that joins with since N gets the entries after N from the
// store, then what arrived live meanwhile, then live entries (see the
// package doc).

import (
	"context"
	"iter"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/protocol"
)

// replay sends c the entries of r after since up to upto from the store,
// then what arrived live meanwhile, and switches the subscription to live.
func (c *Client) replay(ctx context.Context, r *room, s *sub, since, upto int64) error {
	for entries, err := range c.h.entryPages(ctx, r.name, since, upto) {
		if err != nil {
			return err
		}
		if err := c.Reply(ctx, protocol.Entries(entries)); err != nil {
			return err
		}
	}
	for {
		r.mu.Lock()
		backlog := s.backlog
		s.backlog = nil
		if len(backlog) == 0 {
			s.last = max(s.last, upto)
			s.replaying = false
			r.mu.Unlock()
			return nil
		}
		r.mu.Unlock()
		for _, p := range backlog {
			if err := c.Reply(ctx, p.frame); err != nil {
				return err
			}
			if p.seq > 0 {
				r.mu.Lock()
				s.last = p.seq
				r.mu.Unlock()
			}
		}
	}
}

// entryPages yields the entries of room after after and up to upto from
// the store, oldest first, a page at a time, until an error, which it
// yields last. Once a first page comes back full, a goroutine of its own
// reads each next page while the caller handles the one before, unless
// maxReadAhead replays do so already: a long replay then reads the store
// and writes to its connection at once, on two cores, rather than in turn.
// It has stopped when the loop over it ends.
func (h *Hub) entryPages(ctx context.Context, room string, after, upto int64) iter.Seq2[[]*parley.Entry, error] {
	read := func(ctx context.Context, after int64) ([]*parley.Entry, error) {
		return h.store.Entries(ctx, room, parley.Page{After: after, Before: upto + 1, Limit: replayPage, Oldest: true})
	}
	// more reports whether entries, a page read after some number, may be
	// followed by others up to upto.
	more := func(entries []*parley.Entry) bool {
		return len(entries) == replayPage && entries[len(entries)-1].Seq < upto
	}
	// readFrom reads the pages after after in order and hands each to emit,
	// until emit returns false, a read fails, or the page was the last.
	readFrom := func(ctx context.Context, after int64, emit func([]*parley.Entry, error) bool) {
		for {
			entries, err := read(ctx, after)
			if err == nil && len(entries) == 0 {
				return
			}
			if !emit(entries, err) || err != nil || !more(entries) {
				return
			}
			after = entries[len(entries)-1].Seq
		}
	}
	return func(yield func([]*parley.Entry, error) bool) {
		if after >= upto {
			return
		}
		entries, err := read(ctx, after)
		switch {
		case err != nil:
			yield(nil, err)
			return
		case len(entries) == 0:
			return
		case !more(entries):
			yield(entries, nil)
			return
		}
		last := entries[len(entries)-1].Seq
		select {
		case h.readAhead <- struct{}{}:
			defer func() { <-h.readAhead }()
		default:
			if yield(entries, nil) {
				readFrom(ctx, last, yield)
			}
			return
		}

		type page struct {
			entries []*parley.Entry
			err     error
		}
		ctx, cancel := context.WithCancel(ctx)
		next := make(chan page, 1)
		go func() {
			defer close(next)
			readFrom(ctx, last, func(entries []*parley.Entry, err error) bool {
				select {
				case next <- page{entries, err}:
					return true
				case <-ctx.Done():
					return false
				}
			})
		}()
		defer func() {
			cancel()
			for range next { // until the reader has returned
			}
		}()

		if !yield(entries, nil) {
			return
		}
		for p := range next {
			if !yield(p.entries, p.err) || p.err != nil {
				return
			}
		}
	}
}
