package loadgen

import (
	"math"
	"sort"
	"testing"
	"time"
)

// send is one send of a schedule: when, and by which global index.
type send struct {
	at     time.Duration
	sender int
}

// sendsOf runs the schedules the way agent.run makes them (count senders
// of global indices first.., dealt to groups in turn) and returns the
// first n sends of each group, merged in time order.
func sendsOf(p pacing, first, count, groups int, rate float64, n int) []send {
	var all []send
	for g := range groups {
		var idx []int
		for j := g; j < count; j += groups {
			idx = append(idx, first+j)
		}
		s := newSchedule(p, idx, first, count, rate, 1)
		for range n {
			at, i := s.next()
			all = append(all, send{at, idx[i]})
		}
	}
	sort.SliceStable(all, func(a, b int) bool { return all[a].at < all[b].at })
	return all
}

func TestEvenSchedule(t *testing.T) {
	tests := []struct {
		name         string
		first, count int
		groups       int
		rate         float64
		roomSize     int
	}{
		// rooms: 10,000 senders in rooms of 10, 2,000 msg/s, four goroutines.
		{"rooms", 0, 10000, 4, 2000, 10},
		// fanout: 7 senders in one room at 100 msg/s.
		{"fanout", 0, 7, 4, 100, 7},
		// Senders that do not start at index 0, as in a worker process.
		{"from index 300", 300, 100, 3, 50, 10},
		{"one sender", 0, 1, 1, 10, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			interval := time.Duration(float64(tt.count) / tt.rate * float64(time.Second))
			gap := time.Duration(float64(time.Second) / tt.rate)
			per := (tt.count + tt.groups - 1) / tt.groups
			sends := sendsOf(pacing{Arrival: ArrivalEven}, tt.first, tt.count, tt.groups, tt.rate, 3*per)
			// Over the first two intervals, every group having sent
			// that long: one send every 1/rate, every sender once in
			// each interval, at its own steady interval.
			var two []send
			for _, s := range sends {
				if s.at < 2*interval {
					two = append(two, s)
				}
			}
			if len(two) != 2*tt.count {
				t.Fatalf("sends in the first two intervals = %d, want %d", len(two), 2*tt.count)
			}
			for i, s := range two {
				if want := time.Duration(i) * gap; absDur(s.at-want) > time.Microsecond {
					t.Fatalf("send %d at %v, want %v (one every %v)", i, s.at, want, gap)
				}
			}
			last := map[int]time.Duration{}
			for _, s := range two {
				if prev, ok := last[s.sender]; ok && s.at-prev != interval {
					t.Fatalf("sender %d sent at %v and %v, want %v apart", s.sender, prev, s.at, interval)
				}
				last[s.sender] = s.at
			}
			if len(last) != tt.count {
				t.Fatalf("%d senders sent, want %d", len(last), tt.count)
			}
			// Members of one room (consecutive indices) do not send one
			// right after another: within a room, phases are at least a
			// quarter of an even share apart.
			if tt.roomSize < 2 {
				return
			}
			phase := map[int]time.Duration{}
			for _, s := range two[:tt.count] {
				phase[s.sender] = s.at
			}
			minGap := interval
			for r := tt.first; r < tt.first+tt.count; r += tt.roomSize {
				var ph []time.Duration
				for g := r; g < r+tt.roomSize && g < tt.first+tt.count; g++ {
					ph = append(ph, phase[g])
				}
				sort.Slice(ph, func(a, b int) bool { return ph[a] < ph[b] })
				for i := 1; i < len(ph); i++ {
					minGap = min(minGap, ph[i]-ph[i-1])
				}
			}
			if want := interval / time.Duration(4*tt.roomSize); minGap < want {
				t.Errorf("two members of a room send %v apart, want at least %v (interval %v, rooms of %d)", minGap, want, interval, tt.roomSize)
			}
		})
	}
}

func TestPoissonSchedule(t *testing.T) {
	const rate, count, n = 2000.0, 500, 40000
	sends := sendsOf(pacing{Arrival: ArrivalPoisson}, 0, count, 4, rate, n/4)
	// The groups' merged sends are a Poisson process of the step's rate:
	// exponential gaps, mean 1/rate and standard deviation as large, up
	// to the window where every group still sends.
	end := sends[len(sends)-1].at
	var gaps []float64
	seen := map[int]int{}
	for i := 1; i < len(sends) && sends[i].at < end*9/10; i++ {
		gaps = append(gaps, float64(sends[i].at-sends[i-1].at))
		seen[sends[i].sender]++
	}
	var sum, sq float64
	for _, g := range gaps {
		sum += g
	}
	mean := sum / float64(len(gaps))
	for _, g := range gaps {
		sq += (g - mean) * (g - mean)
	}
	sd := math.Sqrt(sq / float64(len(gaps)))
	want := float64(time.Second) / rate
	if math.Abs(mean-want)/want > 0.05 {
		t.Errorf("mean gap %.0f ns, want %.0f ± 5%%", mean, want)
	}
	if cv := sd / mean; cv < 0.9 || cv > 1.1 {
		t.Errorf("gaps' standard deviation / mean = %.2f, want about 1 (exponential)", cv)
	}
	if len(seen) != count {
		t.Errorf("%d senders sent, want all %d", len(seen), count)
	}
}

func TestBurstSchedule(t *testing.T) {
	const rate, size, count = 2000.0, 10, 100
	s := newSchedule(pacing{Arrival: ArrivalBurst, Burst: size}, seq(0, count), 0, count, rate, 1)
	every := time.Duration(size / rate * float64(time.Second))
	for i := range 3 * count {
		at, sender := s.next()
		if want := time.Duration(i/size) * every; at != want {
			t.Fatalf("send %d at %v, want %v (clumps of %d every %v)", i, at, want, size, every)
		}
		if sender != i%count {
			t.Fatalf("send %d by sender %d, want %d (in turn)", i, sender, i%count)
		}
	}
}

func TestSpreadStep(t *testing.T) {
	for n := 1; n <= 500; n++ {
		p := spreadStep(n)
		slots := map[int]bool{}
		for k := range n {
			slots[k*p%n] = true
		}
		if len(slots) != n {
			t.Fatalf("spreadStep(%d) = %d visits %d slots, want all", n, p, len(slots))
		}
	}
}

func seq(first, n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = first + i
	}
	return s
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
