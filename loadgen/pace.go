package loadgen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// Arrivals: how a step's sends are spread in time.
const (
	// ArrivalEven sends each sender's messages at its own steady interval,
	// the senders' phases spread evenly over the interval in an order that
	// keeps neighbours (members of one room) apart: the step's messages
	// leave one every 1/rate seconds, as many people each typing now and
	// then would send them. The default.
	ArrivalEven = "even"
	// ArrivalPoisson sends the step's messages as a Poisson process of the
	// step's rate, each by a sender drawn at random: the gaps between sends
	// are exponential, as independent people's are.
	ArrivalPoisson = "poisson"
	// ArrivalBurst sends clumps of Burst messages back to back, rate/Burst
	// clumps a second, members taking turns in order (neighbours share a
	// room, so a clump goes to one or two rooms). The generator's only
	// pacing before 2026-12-06 was like --burst 4; it flatters a server,
	// which then packs more into each commit and write than people's
	// traffic lets it.
	ArrivalBurst = "burst"
)

// pacing is how a step's senders send: its arrival and, for ArrivalBurst,
// the clump size.
type pacing struct {
	Arrival string `json:"arrival"`
	Burst   int    `json:"burst,omitempty"`
}

// describe says, for a report's header, how rate messages a second from
// senders members are paced.
func (p pacing) describe(rate float64, senders int) string {
	switch p.Arrival {
	case ArrivalPoisson:
		return fmt.Sprintf("Poisson arrivals at %g/s, each by one of %d senders at random", rate, senders)
	case ArrivalBurst:
		return fmt.Sprintf("clumps of %d sends back to back, %.3g clumps/s, members in turn", p.Burst, rate/float64(p.Burst))
	}
	each := time.Duration(float64(senders) / rate * float64(time.Second))
	return fmt.Sprintf("even: one send every %v, each of %d senders every %v, phases spread", time.Duration(float64(time.Second)/rate).Round(time.Microsecond), senders, each.Round(time.Millisecond))
}

// A schedule is a step's sends in time order: next returns when the next
// send is due, from the start of the step, and which sender (an index into
// the senders the schedule was made for) makes it. Schedules are pure, so
// that tests check their spacing without a clock.
type schedule interface {
	next() (at time.Duration, sender int)
}

// newSchedule returns the schedule of some of a step's senders, those of
// global indices idx (ascending, not empty), where the step's senders are
// those of global indices first to first+count-1, sending rate messages a
// second in all: these send their share of it. Poisson draws come from
// seed.
func newSchedule(p pacing, idx []int, first, count int, rate float64, seed uint64) schedule {
	switch p.Arrival {
	case ArrivalPoisson:
		share := rate * float64(len(idx)) / float64(count)
		return &poissonSchedule{mean: float64(time.Second) / share, n: len(idx), rng: rand.New(rand.NewPCG(seed, uint64(idx[0])))}
	case ArrivalBurst:
		share := rate * float64(len(idx)) / float64(count)
		return &burstSchedule{every: time.Duration(float64(p.Burst) / share * float64(time.Second)), size: p.Burst, n: len(idx)}
	}
	return newEvenSchedule(idx, first, count, rate)
}

// evenSchedule: each sender sends every interval, at its own phase.
type evenSchedule struct {
	interval time.Duration
	offsets  []time.Duration // ascending
	order    []int           // order[i] sends at offsets[i] in each interval
	pos      int
	cycle    int
}

// newEvenSchedule spreads count senders' phases over the interval between
// a sender's messages (count/rate seconds): the sender of global index
// first+k has slot k·p mod count, p coprime with count and near 0.382·count
// (the golden section), so that the step's sends are exactly 1/rate apart
// while consecutive senders, who share a room in the scenarios, send about
// 0.38 interval apart rather than one after the other.
func newEvenSchedule(idx []int, first, count int, rate float64) *evenSchedule {
	interval := float64(count) / rate * float64(time.Second)
	p := spreadStep(count)
	s := &evenSchedule{interval: time.Duration(interval)}
	type slot struct {
		at     time.Duration
		sender int
	}
	slots := make([]slot, len(idx))
	for i, g := range idx {
		k := (g - first) % count
		sl := k * p % count
		slots[i] = slot{time.Duration(float64(sl) / float64(count) * interval), i}
	}
	sort.Slice(slots, func(a, b int) bool { return slots[a].at < slots[b].at })
	for _, sl := range slots {
		s.offsets = append(s.offsets, sl.at)
		s.order = append(s.order, sl.sender)
	}
	return s
}

// spreadStep returns a step coprime with n, near n times the golden
// section, so that k ↦ k·step mod n visits every slot and puts neighbours
// far apart.
func spreadStep(n int) int {
	p := int(math.Round(float64(n) * (3 - math.Sqrt(5)) / 2))
	for gcd(p, n) != 1 {
		p++
	}
	return p
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func (s *evenSchedule) next() (time.Duration, int) {
	at := s.offsets[s.pos] + time.Duration(s.cycle)*s.interval
	sender := s.order[s.pos]
	if s.pos++; s.pos == len(s.offsets) {
		s.pos, s.cycle = 0, s.cycle+1
	}
	return at, sender
}

// poissonSchedule: exponential gaps of the given mean, senders at random.
type poissonSchedule struct {
	mean float64 // ns
	n    int
	rng  *rand.Rand
	at   float64 // ns
}

func (s *poissonSchedule) next() (time.Duration, int) {
	s.at += s.rng.ExpFloat64() * s.mean
	return time.Duration(s.at), s.rng.IntN(s.n)
}

// burstSchedule: size sends at once, every interval, senders in turn.
type burstSchedule struct {
	every time.Duration
	size  int
	n     int
	i     int // sends so far
}

func (s *burstSchedule) next() (time.Duration, int) {
	at := time.Duration(s.i/s.size) * s.every
	sender := s.i % s.n
	s.i++
	return at, sender
}
