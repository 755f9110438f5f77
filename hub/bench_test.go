package hub

import (
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/protocol"
)

func BenchmarkEncodeEntry(b *testing.B) {
	e := &parley.Entry{Room: "general", Seq: 123456, Kind: parley.KindMessage, From: "ana",
		ClientID: "0b7e8c1e-2f52-4f6a-9a55-1b7f2c3d4e5f", Text: "a message of about a hundred bytes, as the load generator sends them: hello!",
		At: time.Date(2026, 11, 22, 9, 30, 0, 120e6, time.UTC)}
	b.ReportAllocs()
	for b.Loop() {
		protocol.Entry(e)
	}
}

// BenchmarkEncodePage measures encoding a full replay page; it reports the
// cost per entry.
func BenchmarkEncodePage(b *testing.B) {
	entries := make([]*parley.Entry, replayPage)
	for i := range entries {
		entries[i] = &parley.Entry{Room: "general", Seq: int64(i + 1), Kind: parley.KindMessage, From: "ana",
			ClientID: fmt.Sprint("client-", i), Text: "a message of about a hundred bytes, as the load generator sends them: hello!",
			At: time.Date(2026, 11, 22, 9, 30, 0, 120e6, time.UTC)}
	}
	b.ReportAllocs()
	for b.Loop() {
		protocol.Entries(entries)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(entries)), "ns/entry")
}

// BenchmarkFanOut measures delivering one entry to every member of a room:
// the frame is encoded once and queued for each member. It reports the cost
// per delivery.
func BenchmarkFanOut(b *testing.B) {
	for _, members := range []int{10, 1000, 5000} {
		b.Run(fmt.Sprint(members, " members"), func(b *testing.B) {
			logger := slog.New(slog.NewTextHandler(io.Discard, nil))
			h := New(nil, NewLocal(), logger, Options{QueueBytes: 1 << 40})
			r := &room{name: "bench", subs: make(map[*Client]*sub, members)}
			clients := make([]*Client, members)
			for i := range clients {
				c, err := h.Connect(fmt.Sprint("m", i), discard{})
				if err != nil {
					b.Fatal(err)
				}
				clients[i] = c
				r.subs[c] = &sub{}
			}
			frame := protocol.Entry(&parley.Entry{Room: "bench", Kind: parley.KindMessage, From: "ana", Text: "hello"})
			var buf [][]byte
			b.ReportAllocs()
			seq := int64(0)
			for b.Loop() {
				seq++
				r.mu.Lock()
				h.broadcastLocked(r, pending{seq: seq, frame: frame})
				r.mu.Unlock()
				if seq%64 == 0 { // the writers drain now and then
					for _, c := range clients {
						buf = c.Take(buf)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*members), "ns/delivery")
		})
	}
}
