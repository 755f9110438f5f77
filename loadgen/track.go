package loadgen

// tracker checks the log entries one member receives in one room against
// the promise of docs/PROTOCOL.md: every entry after the member's join point,
// exactly once, in ascending order. In the normal case (the next number) it
// touches two integers; it keeps a set only for entries that arrive beyond
// a gap, until the gap is filled.
type tracker struct {
	from      int64          // the join point: entries after it are expected
	low       int64          // every entry in (from, low] has arrived
	high      int64          // the highest entry that has arrived
	ahead     map[int64]bool // entries above low+1 that have arrived
	received  int64          // entries received, duplicates included
	dups      int64          // entries received again
	reordered int64          // entries that came after a higher one, first time
}

func newTracker(from int64) tracker {
	return tracker{from: from, low: from, high: from}
}

// add records the arrival of entry seq.
func (t *tracker) add(seq int64) {
	t.received++
	switch {
	case seq == t.low+1 && seq > t.high:
		t.low, t.high = seq, seq
		return
	case seq <= t.low || t.ahead[seq]:
		t.dups++
		return
	}
	if seq < t.high {
		t.reordered++
	}
	t.high = max(t.high, seq)
	if seq != t.low+1 {
		if t.ahead == nil {
			t.ahead = make(map[int64]bool)
		}
		t.ahead[seq] = true
		return
	}
	t.low = seq
	for t.ahead[t.low+1] {
		delete(t.ahead, t.low+1)
		t.low++
	}
}

// complete reports whether every entry up to final has arrived.
func (t *tracker) complete(final int64) bool { return t.low >= final }

// expected returns how many entries the member should have by final.
func (t *tracker) expected(final int64) int64 { return max(final-t.from, 0) }

// lost returns how many entries up to final have not arrived.
func (t *tracker) lost(final int64) int64 {
	if t.low >= final {
		return 0
	}
	have := t.low - t.from
	for seq := range t.ahead {
		if seq <= final {
			have++
		}
	}
	return max(final-t.from-have, 0)
}
