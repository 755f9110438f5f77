package loadgen

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// maxMemberRate is the most messages a second one member sends. The server
// allows 20 frames a second with bursts of 40 per connection
// (docs/PROTOCOL.md, Limits); 15 leaves room for joins, resends and jitter.
const maxMemberRate = 15

// perSource is how many connections share one local source address when
// they are spread. One address has about 28,000 ephemeral ports, but the
// kernel's search for a free one in connect grows with the ports in use,
// and those of the last run linger in TIME_WAIT for a minute: at 19,000
// connections from one address, connect took a third of the generator's
// CPU, and back-to-back runs failed hundreds of connections. 4,000 keeps
// both small.
const perSource = 4000

// shards spreads latency recording over several histograms so that readers
// on different cores rarely touch the same cache lines.
const shards = 4

// plan is one agent's share of a run: the members with global indices
// First to First+Count-1 of Total. Agents in worker processes get it as JSON.
type plan struct {
	URL         string `json:"url"`
	RunID       string `json:"runId"`
	Scenario    string `json:"scenario"`
	First       int    `json:"first"`
	Count       int    `json:"count"`
	Total       int    `json:"total"`
	RoomSize    int    `json:"roomSize"` // consecutive members share a room
	Size        int    `json:"size"`     // bytes of message text
	Concurrency int    `json:"concurrency"`
	Spread      bool   `json:"spread"`    // spread source addresses over 127.0.0.x
	PerSource   int    `json:"perSource"` // connections per source address when spread
}

// roomName returns the room of the member with global index i.
func (p *plan) roomName(i int) string {
	return fmt.Sprintf("bench-%s-%s-%d", p.RunID, p.Scenario, i/p.RoomSize)
}

// step is one period of load: members SendFirst to SendFirst+SendCount-1
// (global indices) take turns sending Rate messages a second in all, for
// Duration or until a message is acknowledged with a seq of at least Until;
// ChurnRate connections a second are dropped and resume.
type step struct {
	Rate      float64       `json:"rate"`
	SendFirst int           `json:"sendFirst"`
	SendCount int           `json:"sendCount"`
	Duration  time.Duration `json:"duration"`
	Until     int64         `json:"until"`
	ChurnRate float64       `json:"churnRate"`
	Settle    time.Duration `json:"settle"`
	Pacing    pacing        `json:"pacing"`
}

// connectResult is what an agent says after opening its connections.
type connectResult struct {
	OK      int              `json:"ok"`
	Failed  int              `json:"failed"`
	Start   int64            `json:"start"` // Unix ns
	End     int64            `json:"end"`   // Unix ns, the last join
	Latency Histogram        `json:"latency"`
	Errors  map[string]int64 `json:"errors,omitempty"`
	CPU     float64          `json:"cpuSeconds"` // this process's, while connecting
}

// result is what an agent says about one step. Counts are of the step only.
type result struct {
	Members    int              `json:"members"`
	Sent       int64            `json:"sent"`
	Resent     int64            `json:"resent"`
	Acked      int64            `json:"acked"`
	SendErrors int64            `json:"sendErrors"`
	Unacked    int64            `json:"unacked"`
	Expected   int64            `json:"expected"`
	Received   int64            `json:"received"`
	Lost       int64            `json:"lost"`
	Duplicated int64            `json:"duplicated"`
	OutOfOrder int64            `json:"outOfOrder"`
	Incomplete int              `json:"incomplete"` // members still missing entries
	Foreign    int64            `json:"foreign"`    // entries of rooms the member is not in
	Reconnects int64            `json:"reconnects"`
	Messages   int64            `json:"messages"` // WebSocket messages read
	Closes     map[string]int64 `json:"closes,omitempty"`
	Errors     map[string]int64 `json:"errors,omitempty"`
	Ack        Histogram        `json:"ack"`
	Deliver    Histogram        `json:"deliver"`
	SendStart  int64            `json:"sendStart"` // Unix ns
	SendEnd    int64            `json:"sendEnd"`
	LastEntry  int64            `json:"lastEntry"` // Unix ns of the last entry received
	CPU        float64          `json:"cpuSeconds"`
	// Of the members that lost their connection during the step: when the
	// last joined again, and when the last had every entry up to its
	// joined's lastSeq (Unix ns); how many never did.
	LastBack    int64 `json:"lastBack,omitempty"`
	LastResumed int64 `json:"lastResumed,omitempty"`
	NotResumed  int   `json:"notResumed,omitempty"`
}

// totals are the cumulative counts that a step's result is the difference of.
type totals struct {
	sent, resent, acked, sendErrors           int64
	expected, received, lost, dups, reordered int64
	foreign, reconnects, messages             int64
}

// recorders are the latency histograms of one step.
type recorders struct {
	ack, deliver [shards]recorder
}

// room is a room some of an agent's members are in.
type room struct {
	name  string
	known atomic.Int64 // highest lastSeq any member saw in joined: a safe since
}

// agent runs one process's members: it connects them, makes them send on
// schedule, and accounts for what they receive.
type agent struct {
	plan    plan
	members []*member
	rooms   map[string]*room
	url     *url.URL
	dialers map[int]*net.Dialer // by source address index

	ctx    context.Context // ends the members' goroutines
	cancel context.CancelFunc
	wg     sync.WaitGroup

	rec     atomic.Pointer[recorders]
	connLat recorder

	sent, resent, acked, sendErrors atomic.Int64
	pending                         atomic.Int64 // sends not yet acknowledged or refused
	reconnects                      atomic.Int64
	ackMax                          atomic.Int64 // highest seq acknowledged
	sendStart, sendEnd              atomic.Int64 // Unix ns of the current step's sending

	mu       sync.Mutex
	closes   map[string]int64 // guarded by mu
	errs     map[string]int64 // guarded by mu
	prev     totals           // guarded by mu: the totals at the end of the last step
	cpuStart float64          // guarded by mu: cpuTime at the start of the step
}

func newAgent(ctx context.Context, p plan) (*agent, error) {
	u, err := url.Parse(p.URL)
	if err != nil {
		return nil, fmt.Errorf("url: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	a := &agent{
		plan:    p,
		rooms:   make(map[string]*room),
		url:     u,
		dialers: make(map[int]*net.Dialer),
		ctx:     ctx,
		cancel:  cancel,
		closes:  make(map[string]int64),
		errs:    make(map[string]int64),
	}
	a.rec.Store(new(recorders))
	for i := p.First; i < p.First+p.Count; i++ {
		a.addMember(i, p.roomName(i))
	}
	return a, nil
}

// addMember adds the member with global index i, in room name.
func (a *agent) addMember(i int, name string) *member {
	r := a.rooms[name]
	if r == nil {
		r = &room{name: name}
		a.rooms[name] = r
	}
	m := &member{
		a:       a,
		idx:     i,
		nick:    fmt.Sprintf("bench-%s-%d", a.plan.RunID, i),
		room:    r,
		pending: make(map[uint64]int64),
		ready:   make(chan error, 1),
	}
	a.members = append(a.members, m)
	return m
}

// dialer returns the dialer for the member with global index i.
func (a *agent) dialer(i int) *net.Dialer {
	src := 0
	if a.plan.Spread {
		src = i / a.plan.PerSource
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	d := a.dialers[src]
	if d == nil {
		// No TCP keep-alive probes, as on the server: a member's connection
		// is pinged by the server, and setting them up took four system
		// calls a connection.
		d = &net.Dialer{Timeout: establishTimeout, KeepAlive: -1}
		if a.plan.Spread {
			d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+src))}
			d.Control = bindNoPort
		}
		a.dialers[src] = d
	}
	return d
}

// connect opens the connections of members, at most plan.Concurrency at
// a time, and waits until each has joined its room or failed once.
func (a *agent) connect(members []*member) connectResult {
	res := connectResult{Start: time.Now().UnixNano(), Errors: make(map[string]int64)}
	cpu0 := cpuTime()
	// Connect workers establish the first connections: their stacks,
	// grown by dialing once, serve every connection after, and a member's
	// own goroutine starts small, in its read loop.
	todo := make(chan *member)
	a.wg.Add(len(members)) // done when a member's goroutine ends or its first attempt fails
	for range min(max(a.plan.Concurrency, 1), len(members)) {
		go func() {
			for m := range todo {
				conn, err := m.establish(a.ctx, true)
				if conn == nil {
					m.ready <- err
					a.wg.Done()
					continue
				}
				go func() {
					defer a.wg.Done()
					m.run(a.ctx, conn, err)
				}()
			}
		}()
	}
	go func() {
		defer close(todo)
		for _, m := range members {
			todo <- m
		}
	}()
	for _, m := range members {
		if err := <-m.ready; err != nil {
			res.Failed++
			res.Errors[errorClass(err)]++
			continue
		}
		res.OK++
	}
	res.End = time.Now().UnixNano()
	res.CPU = cpuTime() - cpu0
	a.connLat.addTo(&res.Latency)
	return res
}

// errorClass shortens err to a key for counting errors of the same kind.
func errorClass(err error) string {
	var ne *net.OpError
	s := err.Error()
	if e, ok := err.(*net.OpError); ok {
		ne = e
		s = ne.Op + ": " + ne.Err.Error()
	}
	if len(s) > 80 {
		s = s[:80]
	}
	return s
}

// run carries out st: it starts the senders and the churn, waits for the
// step to end and for the acknowledgements (up to st.Settle), and returns
// the highest seq each room is known to have reached.
func (a *agent) run(ctx context.Context, st step) map[string]int64 {
	a.rec.Store(new(recorders))
	var senders []*member
	for _, m := range a.members {
		if m.idx >= st.SendFirst && m.idx < st.SendFirst+st.SendCount && m.isJoined() {
			senders = append(senders, m)
		}
	}
	churn := st.ChurnRate * float64(a.plan.Count) / float64(max(a.plan.Total, 1))

	a.mu.Lock()
	a.sendStart.Store(time.Now().UnixNano())
	a.cpuStart = cpuTime()
	a.mu.Unlock()
	stepCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	if st.Rate > 0 && len(senders) > 0 {
		// A few goroutines share the sending, so that one write that waits
		// for a full socket holds up only their share; the schedules are
		// of the whole step's senders, so together they keep its pacing.
		// A clump is sent by one, back to back.
		n := min(len(senders), 4)
		if st.Pacing.Arrival == ArrivalBurst {
			n = 1
		}
		for i := range n {
			var mine []*member
			var idx []int
			for j := i; j < len(senders); j += n {
				mine = append(mine, senders[j])
				idx = append(idx, senders[j].idx)
			}
			s := newSchedule(st.Pacing, idx, st.SendFirst, st.SendCount, st.Rate, uint64(time.Now().UnixNano()))
			wg.Add(1)
			go func() {
				defer wg.Done()
				a.pace(stepCtx, mine, s)
			}()
		}
	}
	if churn > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.churn(stepCtx, churn)
		}()
	}
	deadline := time.NewTimer(st.Duration)
	tick := time.NewTicker(10 * time.Millisecond)
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-deadline.C:
			done = true
		case <-tick.C:
			done = st.Until > 0 && a.ackMax.Load() >= st.Until
		}
	}
	deadline.Stop()
	stop()
	wg.Wait()
	a.sendEnd.Store(time.Now().UnixNano())

	// Wait for the acknowledgements of what was sent.
	for end := time.Now().Add(st.Settle); a.pending.Load() > 0 && time.Now().Before(end) && ctx.Err() == nil; {
		<-tick.C
	}
	tick.Stop()

	final := make(map[string]int64)
	for _, m := range a.members {
		m.mu.Lock()
		high := max(m.t.high, m.ackMax)
		m.mu.Unlock()
		final[m.room.name] = max(final[m.room.name], high)
	}
	return final
}

// pace sends members' messages when s says, until ctx is done. A member
// whose connection is down skips its turn. Sends that fell behind (a write
// waited, or the goroutine was not run in time) go out at once.
func (a *agent) pace(ctx context.Context, members []*member, s schedule) {
	start := time.Now()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	buf := make([]byte, 0, a.plan.Size+256)
	for {
		at, i := s.next()
		if d := time.Until(start.Add(at)); d > 0 {
			timer.Reset(d)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			return
		}
		buf, _ = members[i].send(buf)
	}
}

// churn drops rate connections a second, taking members in turn; each
// reconnects at once and resumes from the last entry it has.
func (a *agent) churn(ctx context.Context, rate float64) {
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	next := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for range a.members {
			m := a.members[next]
			next = (next + 1) % len(a.members)
			if m.drop() {
				break
			}
		}
	}
}

// settle waits up to timeout until every member has every entry up to its
// room's final seq, then returns the step's result.
func (a *agent) settle(ctx context.Context, final map[string]int64, timeout time.Duration) result {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for end := time.Now().Add(timeout); time.Now().Before(end) && ctx.Err() == nil; <-tick.C {
		if a.incomplete(final) == 0 {
			break
		}
	}

	var cur totals
	res := result{Closes: make(map[string]int64), Errors: make(map[string]int64)}
	for _, m := range a.members {
		m.mu.Lock()
		if m.joined {
			res.Members++
			f := final[m.room.name]
			cur.expected += m.t.expected(f)
			cur.lost += m.t.lost(f)
			if !m.t.complete(f) {
				res.Incomplete++
			}
		}
		cur.received += m.t.received
		cur.dups += m.t.dups
		cur.reordered += m.t.reordered
		cur.foreign += m.foreign
		cur.messages += m.messages
		res.LastEntry = max(res.LastEntry, m.lastEntry)
		if m.backAt >= a.sendStart.Load() {
			res.LastBack = max(res.LastBack, m.backAt)
			res.LastResumed = max(res.LastResumed, m.resumedAt)
			if m.resumedAt == 0 {
				res.NotResumed++
			}
		}
		m.mu.Unlock()
	}
	cur.sent, cur.resent, cur.acked, cur.sendErrors = a.sent.Load(), a.resent.Load(), a.acked.Load(), a.sendErrors.Load()
	cur.reconnects = a.reconnects.Load()

	a.mu.Lock()
	p := a.prev
	a.prev = cur
	for k, v := range a.closes {
		res.Closes[k] = v
	}
	for k, v := range a.errs {
		res.Errors[k] = v
	}
	clear(a.closes)
	clear(a.errs)
	cpuStart := a.cpuStart
	a.mu.Unlock()

	res.Sent, res.Resent = cur.sent-p.sent, cur.resent-p.resent
	res.Acked, res.SendErrors = cur.acked-p.acked, cur.sendErrors-p.sendErrors
	res.Unacked = a.pending.Load()
	res.Expected, res.Received = cur.expected-p.expected, cur.received-p.received
	res.Lost, res.Duplicated, res.OutOfOrder = cur.lost-p.lost, cur.dups-p.dups, cur.reordered-p.reordered
	res.Foreign, res.Reconnects = cur.foreign-p.foreign, cur.reconnects-p.reconnects
	res.Messages = cur.messages - p.messages
	rec := a.rec.Load()
	for i := range shards {
		rec.ack[i].addTo(&res.Ack)
		rec.deliver[i].addTo(&res.Deliver)
	}
	res.SendStart, res.SendEnd = a.sendStart.Load(), a.sendEnd.Load()
	res.CPU = cpuTime() - cpuStart
	return res
}

// incomplete counts the joined members that lack entries up to final.
func (a *agent) incomplete(final map[string]int64) int {
	n := 0
	for _, m := range a.members {
		m.mu.Lock()
		if m.joined && !m.t.complete(final[m.room.name]) {
			n++
		}
		m.mu.Unlock()
	}
	return n
}

// close ends every member's connection and goroutine.
func (a *agent) close() {
	a.cancel()
	for _, m := range a.members {
		m.wmu.Lock()
		if m.conn != nil {
			m.conn.Close()
		}
		m.wmu.Unlock()
	}
	a.wg.Wait()
}

// count adds one to the counter key of m (a.closes or a.errs).
func (a *agent) count(m map[string]int64, key string) {
	a.mu.Lock()
	m[key]++
	a.mu.Unlock()
}

// maxRooms returns the per-room maxima of several agents' run results.
func maxRooms(all ...map[string]int64) map[string]int64 {
	out := make(map[string]int64)
	for _, m := range all {
		for k, v := range m {
			out[k] = max(out[k], v)
		}
	}
	return out
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// closeKey names a close code for counting.
func closeKey(code int) string { return strconv.Itoa(code) }
