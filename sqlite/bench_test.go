package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/parley-chat/parley"
)

// BenchmarkAppend sends messages from many senders at once. Group commit
// shows as ops/commit: the writes that shared one transaction, and one
// flush to disk.
//
//	go test -run '^$' -bench Append ./sqlite/
func BenchmarkAppend(b *testing.B) {
	for _, senders := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("senders=%d", senders), func(b *testing.B) {
			db := mustOpen(b, filepath.Join(b.TempDir(), "parley.db"))
			batches, ops := db.batches.Load(), db.ops.Load()
			var sent atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for g := range senders {
				wg.Go(func() {
					from := "sender-" + strconv.Itoa(g)
					for i := sent.Add(1); i <= int64(b.N); i = sent.Add(1) {
						e := parley.Entry{Room: parley.DefaultRoom, Kind: parley.KindMessage, From: from, ClientID: strconv.FormatInt(i, 10), Text: "Hello, world"}
						if _, err := db.Append(b.Context(), &e); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			if n := db.batches.Load() - batches; n > 0 {
				b.ReportMetric(float64(db.ops.Load()-ops)/float64(n), "ops/commit")
			}
		})
	}
}

// BenchmarkEntries reads pages of a long log: catching up (after) as a
// resuming client does, and scrolling back (before).
//
//	go test -run '^$' -bench Entries ./sqlite/
func BenchmarkEntries(b *testing.B) {
	const logLen, pageLen = 100_000, parley.MaxPageSize
	db := mustOpen(b, filepath.Join(b.TempDir(), "parley.db"))
	// Write the log in a few big transactions, which Append would not.
	for start := 0; start < logLen; start += 10_000 {
		err := db.submit(b.Context(), func(ctx context.Context, batch *batch) error {
			for i := start; i < start+10_000; i++ {
				e := parley.Entry{Room: parley.DefaultRoom, Kind: parley.KindMessage, From: "ana", ClientID: strconv.Itoa(i), Text: fmt.Sprintf("message number %d", i)}
				if _, err := batch.appendMessage(ctx, &e); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}

	pages := map[string]func(i int) parley.Page{
		"after": func(i int) parley.Page {
			return parley.Page{After: int64(i*pageLen) % (logLen - pageLen), Limit: pageLen, Oldest: true}
		},
		"before": func(i int) parley.Page {
			return parley.Page{Before: int64(i*pageLen)%(logLen-pageLen) + pageLen + 1, Limit: pageLen}
		},
	}
	for name, page := range pages {
		b.Run(name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				p := page(i)
				entries, err := db.Entries(b.Context(), parley.DefaultRoom, p)
				if err != nil || len(entries) != pageLen {
					b.Fatalf("Entries(%+v) = %d entries, %v; want %d", p, len(entries), err, pageLen)
				}
				i++
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*pageLen), "ns/entry")
		})
	}
}

// BenchmarkMarkRead has many readers of one busy room mark it read at
// once, as the tabs of a crowd do, each mark a little further than the
// last: marks share commits as appends do (ops/commit).
//
//	go test -run '^$' -bench MarkRead ./sqlite/
func BenchmarkMarkRead(b *testing.B) {
	for _, readers := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("readers=%d", readers), func(b *testing.B) {
			db := mustOpen(b, filepath.Join(b.TempDir(), "parley.db"))
			// Every mark moves its reader's marker: the log is as long as
			// there are marks.
			err := db.submit(b.Context(), func(ctx context.Context, batch *batch) error {
				for i := range b.N {
					e := parley.Entry{Room: parley.DefaultRoom, Kind: parley.KindMessage, From: "ana", ClientID: strconv.Itoa(i), Text: "hello"}
					if _, err := batch.appendMessage(ctx, &e); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			batches, ops := db.batches.Load(), db.ops.Load()
			var marked atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for g := range readers {
				wg.Go(func() {
					nick := "reader-" + strconv.Itoa(g)
					for i := marked.Add(1); i <= int64(b.N); i = marked.Add(1) {
						if err := db.MarkRead(b.Context(), parley.DefaultRoom, nick, i); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			if n := db.batches.Load() - batches; n > 0 {
				b.ReportMetric(float64(db.ops.Load()-ops)/float64(n), "ops/commit")
			}
		})
	}
}
