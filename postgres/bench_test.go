package postgres

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/pgtest"
)

// BenchmarkAppend sends messages from many senders at once, to one room or
// spread over several, which the writers commit in parallel. Group commit
// shows as ops/commit: the writes that shared one transaction, and one
// flush to disk. The server is the tests' throw-away one (16 MB of shared
// buffers), on the same machine.
//
//	go test -run '^$' -bench Append ./postgres/
func BenchmarkAppend(b *testing.B) {
	for _, rooms := range []int{1, 16} {
		for _, senders := range []int{1, 16, 256} {
			b.Run(fmt.Sprintf("rooms=%d/senders=%d", rooms, senders), func(b *testing.B) {
				db := mustOpen(b, pgtest.NewDatabase(b))
				names := []string{parley.DefaultRoom}
				for i := 1; i < rooms; i++ {
					name := fmt.Sprint("room-", i)
					if _, err := db.EnsureRoom(b.Context(), name); err != nil {
						b.Fatal(err)
					}
					names = append(names, name)
				}
				committed := func() (batches, ops int64) {
					for _, w := range db.writers {
						batches, ops = batches+w.batches.Load(), ops+w.ops.Load()
					}
					return batches, ops
				}
				batches, ops := committed()
				var sent atomic.Int64
				var wg sync.WaitGroup
				b.ResetTimer()
				for g := range senders {
					wg.Go(func() {
						from := "sender-" + strconv.Itoa(g)
						room := names[g%len(names)]
						for i := sent.Add(1); i <= int64(b.N); i = sent.Add(1) {
							e := parley.Entry{Room: room, Kind: parley.KindMessage, From: from, ClientID: strconv.FormatInt(i, 10), Text: "Hello, world"}
							if _, err := db.Append(b.Context(), &e); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				b.StopTimer()
				b2, o2 := committed()
				if batches, ops = b2-batches, o2-ops; batches > 0 {
					b.ReportMetric(float64(ops)/float64(batches), "ops/commit")
				}
			})
		}
	}
}
