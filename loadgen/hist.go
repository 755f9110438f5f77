package loadgen

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// Latencies are recorded in microseconds in log-linear buckets: values below
// 2×subBuckets are exact, and every doubling above is split into subBuckets
// buckets, so a bucket is at most 1/128 (0.8%) of its value wide. Bucket
// counts add up, so histograms of several processes merge exactly.
const (
	subBits    = 7
	subBuckets = 1 << subBits                // buckets per doubling
	maxShift   = 26                          // up to 2^(26+8) µs, about 4.8 hours
	nBuckets   = (maxShift + 2) * subBuckets // index of the largest value + 1
)

// bucketOf returns the bucket of v microseconds.
func bucketOf(v int64) int {
	if v < 0 {
		v = 0
	}
	u := uint64(v)
	if u < 2*subBuckets {
		return int(u)
	}
	shift := bits.Len64(u) - subBits - 1
	if shift > maxShift {
		return nBuckets - 1
	}
	return shift*subBuckets + int(u>>uint(shift))
}

// bucketRange returns the smallest and largest value of bucket i.
func bucketRange(i int) (lo, hi int64) {
	if i < 2*subBuckets {
		return int64(i), int64(i)
	}
	shift := i/subBuckets - 1
	m := int64(i - shift*subBuckets)
	return m << uint(shift), (m+1)<<uint(shift) - 1
}

// Histogram is a mergeable latency histogram; its JSON form lists only the
// buckets that are not empty, so processes can send theirs to the parent.
type Histogram struct {
	Count   uint64     `json:"count"`
	Max     int64      `json:"maxMicros"`
	Buckets [][2]int64 `json:"buckets"` // [bucket index, count], ascending
}

// Merge adds o's counts to h.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil || o.Count == 0 {
		return
	}
	merged := make([][2]int64, 0, len(h.Buckets)+len(o.Buckets))
	i, j := 0, 0
	for i < len(h.Buckets) || j < len(o.Buckets) {
		switch {
		case j == len(o.Buckets) || i < len(h.Buckets) && h.Buckets[i][0] < o.Buckets[j][0]:
			merged = append(merged, h.Buckets[i])
			i++
		case i == len(h.Buckets) || o.Buckets[j][0] < h.Buckets[i][0]:
			merged = append(merged, o.Buckets[j])
			j++
		default:
			merged = append(merged, [2]int64{h.Buckets[i][0], h.Buckets[i][1] + o.Buckets[j][1]})
			i++
			j++
		}
	}
	h.Buckets = merged
	h.Count += o.Count
	h.Max = max(h.Max, o.Max)
}

// Quantile returns the value below which a fraction q of the values fall,
// to the precision of a bucket (the middle of the bucket that holds it),
// never above the largest value recorded.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h == nil || h.Count == 0 {
		return 0
	}
	rank := uint64(q*float64(h.Count) + 0.5)
	rank = min(max(rank, 1), h.Count)
	var seen uint64
	for _, b := range h.Buckets {
		seen += uint64(b[1])
		if seen >= rank {
			lo, hi := bucketRange(int(b[0]))
			return time.Duration(min((lo+hi)/2, h.Max)) * time.Microsecond
		}
	}
	return time.Duration(h.Max) * time.Microsecond
}

// recorder is a Histogram that many goroutines record into at once with
// atomic adds, and that can be read while they do.
type recorder struct {
	counts [nBuckets]atomic.Uint64
	max    atomic.Int64
}

// record adds one value.
func (r *recorder) record(d time.Duration) {
	v := int64(d / time.Microsecond)
	r.counts[bucketOf(v)].Add(1)
	for {
		m := r.max.Load()
		if v <= m || r.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// addTo adds r's counts to h.
func (r *recorder) addTo(h *Histogram) {
	var o Histogram
	for i := range r.counts {
		if n := r.counts[i].Load(); n > 0 {
			o.Buckets = append(o.Buckets, [2]int64{int64(i), int64(n)})
			o.Count += n
		}
	}
	o.Max = r.max.Load()
	h.Merge(&o)
}
