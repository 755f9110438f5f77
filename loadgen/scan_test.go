package loadgen

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/protocol"
)

func TestScanEvent(t *testing.T) {
	tests := []struct {
		line                                  string
		typ, room, clientID, text, code, sess string
		seq, lastSeq                          int64
		hasSeq                                bool
	}{
		{line: `{"room":"general","seq":43,"type":"message","from":"ana","text":"1700000000000000000 xx","clientId":"7.1700000000000000000","at":"2026-11-22T09:30:01.512Z"}`,
			typ: "message", room: "general", seq: 43, hasSeq: true, text: "1700000000000000000 "}, // the fast path reads only what it needs
		{line: `{"seq":43,"room":"general","type":"message","from":"ana","text":"1700000000000000000 xx","clientId":"7.1700000000000000000"}`,
			typ: "message", room: "general", seq: 43, hasSeq: true, text: "1700000000000000000 xx", clientID: "7.1700000000000000000"},
		{line: `{"room":"gen\"eral","seq":44,"type":"join","from":"bob","at":"2026-11-22T09:30:00.12Z"}`,
			typ: "join", room: `gen\"eral`, seq: 44, hasSeq: true},
		{line: `{"type":"ack","room":"general","clientId":"a-1","seq":43,"at":"2026-11-22T09:30:01.512Z"}`,
			typ: "ack", room: "general", clientID: "a-1", seq: 43, hasSeq: true},
		{line: `{"type":"joined","room":"general","lastSeq":41,"online":["ana","b\"ob]"]}`,
			typ: "joined", room: "general", lastSeq: 41},
		{line: `{"type":"welcome","v":1,"nick":"ana","session":"3q2","limits":{"maxTextBytes":4096,"x":{"y":[1,2]}}}`,
			typ: "welcome", sess: "3q2"},
		{line: `{"type":"error","code":"rate_limited","message":"Too \"many\" frames.","room":"general","clientId":"c-17"}`,
			typ: "error", code: "rate_limited", room: "general", clientID: "c-17"},
		{line: ` { "type" : "pong" , "ok" : true, "n": null, "f": -1.5e3 } `, typ: "pong"},
	}
	for _, tt := range tests {
		var e event
		if !scanEvent([]byte(tt.line), &e) {
			t.Errorf("scanEvent(%s) = false, want true", tt.line)
			continue
		}
		got := []string{string(e.typ), string(e.room), string(e.clientID), string(e.text), string(e.code), string(e.session)}
		want := []string{tt.typ, tt.room, tt.clientID, tt.text, tt.code, tt.sess}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("scanEvent(%s) field %d = %q, want %q", tt.line, i, got[i], want[i])
			}
		}
		if e.seq != tt.seq || e.hasSeq != tt.hasSeq || e.lastSeq != tt.lastSeq {
			t.Errorf("scanEvent(%s) seq %d (%v), lastSeq %d; want %d (%v), %d", tt.line, e.seq, e.hasSeq, e.lastSeq, tt.seq, tt.hasSeq, tt.lastSeq)
		}
	}
	for _, bad := range []string{``, `[]`, `{"type":"x"`, `{"type":"x",}`, `{"type":}`, `{"a":"unterminated}`, `{"a":{"b":1}`} {
		var e event
		if scanEvent([]byte(bad), &e) {
			t.Errorf("scanEvent(%s) = true, want false", bad)
		}
	}
}

// TestScanEventReadsTheProtocol scans the events as package protocol
// encodes them, so that the generator's scanner and the server agree.
func TestScanEventReadsTheProtocol(t *testing.T) {
	at := time.Date(2026, 11, 22, 9, 30, 1, 512e6, time.UTC)
	msg := &parley.Entry{Room: "general", Seq: 43, Kind: parley.KindMessage, From: "ana", Text: "hi", ClientID: "a-1", At: at}
	tests := []struct {
		line                           []byte
		typ, room, clientID, code, ses string
		seq, lastSeq                   int64
	}{
		{line: protocol.Entry(msg), typ: "message", room: "general", seq: 43},
		{line: protocol.Entry(&parley.Entry{Room: "general", Seq: 44, Kind: parley.KindJoin, From: "bob", At: at}), typ: "join", room: "general", seq: 44},
		{line: protocol.Ack(msg), typ: "ack", room: "general", clientID: "a-1", seq: 43},
		{line: protocol.Joined("general", 41, 40, []string{"ana", "bob"}, 2), typ: "joined", room: "general", lastSeq: 41},
		{line: protocol.Welcome("ana", "guest", "3q2", protocol.Limits{MaxTextBytes: 4096}), typ: "welcome", ses: "3q2"},
		{line: protocol.Error(parley.Errorf(parley.TooMany, "Too many."), "general", "c-17"), typ: "error", code: "rate_limited", room: "general", clientID: "c-17"},
		{line: protocol.Pong(), typ: "pong"},
		{line: protocol.Presence("general", []string{"bob", "ana"}, []string{"dan"}), typ: "presence", room: "general"},
		{line: protocol.Typing("general", "bob"), typ: "typing", room: "general"},
	}
	for _, tt := range tests {
		var e event
		if !scanEvent(tt.line, &e) {
			t.Errorf("scanEvent(%s) = false, want true", tt.line)
			continue
		}
		got := []string{string(e.typ), string(e.room), string(e.clientID), string(e.code), string(e.session)}
		want := []string{tt.typ, tt.room, tt.clientID, tt.code, tt.ses}
		if !slices.Equal(got, want) || e.seq != tt.seq || e.hasSeq != (tt.seq > 0) || e.lastSeq != tt.lastSeq {
			t.Errorf("scanEvent(%s) = %q, seq %d, lastSeq %d; want %q, seq %d, lastSeq %d", tt.line, got, e.seq, e.lastSeq, want, tt.seq, tt.lastSeq)
		}
	}
}

func TestClientID(t *testing.T) {
	b := appendSend(nil, "room-1", 42, 1700000000123456789, 100)
	var e event
	if !scanEvent(b, &e) {
		t.Fatalf("scanEvent(appendSend()) = false")
	}
	id, ts, ok := parseClientID(e.clientID)
	if !ok || id != 42 || ts != 1700000000123456789 {
		t.Errorf("parseClientID(%s) = %d, %d, %v; want 42, 1700000000123456789, true", e.clientID, id, ts, ok)
	}
	if n, ok := leadingInt(e.text); !ok || n != ts || len(e.text) != 100 {
		t.Errorf("text %q: leading %d, %v, length %d; want %d, true, 100", e.text, n, ok, len(e.text), ts)
	}
}

func TestTracker(t *testing.T) {
	tests := []struct {
		name                         string
		from                         int64
		seqs                         []int64
		final                        int64
		lost, dups, reordered, recvd int64
	}{
		{"in order", 0, []int64{1, 2, 3, 4}, 4, 0, 0, 0, 4},
		{"from a join point", 10, []int64{11, 12}, 12, 0, 0, 0, 2},
		{"gap never filled", 0, []int64{1, 2, 4, 5}, 5, 1, 0, 0, 4},
		{"tail missing", 0, []int64{1, 2}, 5, 3, 0, 0, 2},
		{"duplicate", 0, []int64{1, 2, 2, 3}, 3, 0, 1, 0, 4},
		{"duplicate ahead of a gap", 0, []int64{1, 3, 3, 2}, 3, 0, 1, 1, 4},
		{"swapped", 0, []int64{2, 1, 3}, 3, 0, 0, 1, 3},
		{"late fill", 0, []int64{1, 4, 5, 2, 3}, 5, 0, 0, 2, 5},
		{"before the join point", 5, []int64{5, 6}, 6, 0, 1, 0, 2},
	}
	for _, tt := range tests {
		tr := newTracker(tt.from)
		for _, s := range tt.seqs {
			tr.add(s)
		}
		if got := tr.lost(tt.final); got != tt.lost {
			t.Errorf("%s: lost(%d) = %d, want %d", tt.name, tt.final, got, tt.lost)
		}
		if tr.dups != tt.dups || tr.reordered != tt.reordered || tr.received != tt.recvd {
			t.Errorf("%s: dups %d, reordered %d, received %d; want %d, %d, %d", tt.name, tr.dups, tr.reordered, tr.received, tt.dups, tt.reordered, tt.recvd)
		}
		if got, want := tr.complete(tt.final), tt.lost == 0; got != want {
			t.Errorf("%s: complete(%d) = %v, want %v", tt.name, tt.final, got, want)
		}
	}
}

func TestHistogram(t *testing.T) {
	// Buckets are contiguous and never wider than 1/128 of their values.
	for i := 1; i < nBuckets; i++ {
		lo, hi := bucketRange(i)
		plo, phi := bucketRange(i - 1)
		if lo != phi+1 || plo > phi || lo > hi {
			t.Fatalf("bucket %d = [%d, %d] after [%d, %d]", i, lo, hi, plo, phi)
		}
		if bucketOf(lo) != i || bucketOf(hi) != i {
			t.Fatalf("bucketOf(%d), bucketOf(%d) = %d, %d; want %d", lo, hi, bucketOf(lo), bucketOf(hi), i)
		}
		if i >= 2*subBuckets && float64(hi-lo+1)/float64(lo) > 1.0/128 {
			t.Fatalf("bucket %d = [%d, %d] is wider than 1/128", i, lo, hi)
		}
	}

	// Two recorders merged equal one that saw everything; quantiles are
	// within 1%.
	var a, b, both recorder
	var vals []time.Duration
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		v := time.Duration(r.ExpFloat64() * float64(5*time.Millisecond))
		vals = append(vals, v)
		both.record(v)
		if i%3 == 0 {
			a.record(v)
		} else {
			b.record(v)
		}
	}
	var merged, whole Histogram
	a.addTo(&merged)
	b.addTo(&merged)
	both.addTo(&whole)
	if merged.Count != whole.Count || merged.Max != whole.Max || len(merged.Buckets) != len(whole.Buckets) {
		t.Fatalf("merged count %d max %d buckets %d; want %d, %d, %d", merged.Count, merged.Max, len(merged.Buckets), whole.Count, whole.Max, len(whole.Buckets))
	}
	for i := range merged.Buckets {
		if merged.Buckets[i] != whole.Buckets[i] {
			t.Fatalf("merged bucket %v, want %v", merged.Buckets[i], whole.Buckets[i])
		}
	}
	sortDurations(vals)
	for _, q := range []float64{0.5, 0.95, 0.99} {
		exact := vals[int(q*float64(len(vals)))-1]
		got := merged.Quantile(q)
		if d := float64(got-exact) / float64(exact); d > 0.01 || d < -0.01 {
			t.Errorf("Quantile(%v) = %v, want %v within 1%%", q, got, exact)
		}
	}
}

func sortDurations(v []time.Duration) {
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
}

var benchLines = [][]byte{
	[]byte(`{"room":"bench-abc123-fanout-0","seq":123456,"type":"message","from":"bench-abc123-17","text":"1763791234567890123 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","clientId":"4711.1763791234567890123","at":"2026-11-22T09:30:01.512345Z"}`),
	[]byte(`{"type":"ack","room":"bench-abc123-fanout-0","clientId":"4711.1763791234567890123","seq":123456,"at":"2026-11-22T09:30:01.512345Z"}`),
}

func BenchmarkScanEvent(b *testing.B) {
	for _, tc := range []struct {
		name string
		line []byte
	}{{"message", benchLines[0]}, {"ack", benchLines[1]}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(tc.line)))
			var e event
			for b.Loop() {
				if !scanEvent(tc.line, &e) {
					b.Fatal("scanEvent = false")
				}
			}
		})
	}
}

// BenchmarkHandle measures the whole per-delivery path of a reader: split a
// batched message, scan each event, check its sequence number, record its
// latency.
func BenchmarkHandle(b *testing.B) {
	a := &agent{plan: plan{Size: 100}, closes: map[string]int64{}, errs: map[string]int64{}}
	a.rec.Store(new(recorders))
	m := &member{a: a, room: &room{name: "r"}, pending: map[uint64]int64{}, joined: true}
	var msg []byte
	const batch = 32
	b.ReportAllocs()
	var seq int64
	for b.Loop() {
		msg = msg[:0]
		for i := range batch {
			if i > 0 {
				msg = append(msg, '\n')
			}
			seq++
			msg = append(msg, `{"room":"r","seq":`...)
			msg = appendInt(msg, seq)
			msg = append(msg, `,"type":"message","from":"x","text":"1763791234567890123 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","clientId":"1.2","at":"2026-11-22T09:30:01.512Z"}`...)
		}
		m.handle(msg, 1763791234567990123)
	}
	if m.t.lost(seq) != 0 || m.t.received != seq {
		b.Fatalf("received %d, lost %d; want %d, 0", m.t.received, m.t.lost(seq), seq)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(seq), "ns/event")
}

func appendInt(b []byte, n int64) []byte {
	var d [20]byte
	i := len(d)
	for {
		i--
		d[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(b, d[i:]...)
}
