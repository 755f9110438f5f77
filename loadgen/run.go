package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Scenarios lists the scenarios Run knows, in the order --help explains them.
var Scenarios = []string{"idle", "fanout", "rooms", "history", "churn"}

// Config is one bench run. Zero values mean the scenario's defaults.
type Config struct {
	Scenario string
	// URL is the server's WebSocket address, ws://HOST:PORT/ws. Empty with
	// Spawn.
	URL string
	// Spawn starts a throw-away server with ServerCommand and runs against it.
	Spawn bool
	// RestartAfter, with Spawn, restarts the server this long into every
	// step after the connections are open: SIGTERM, then the same command
	// on the same database and address.
	RestartAfter time.Duration
	// Database, with Spawn, is the server's -database: a PostgreSQL URL,
	// say, on which the server finds what earlier runs left, which the run
	// ignores, as its names are its own. Empty means a SQLite file in the
	// server's temporary directory.
	Database string

	Conns    int       // idle, rooms, churn: connections
	Members  int       // fanout: members of the one room
	RoomSize int       // rooms, churn: members per room
	Rates    []float64 // fanout, rooms, churn: messages a second, one step each
	Duration time.Duration
	Size     int // bytes of message text
	Entries  int // history: entries in the log to replay
	Readers  int // history: clients replaying at once
	Fillers  int // history: connections that fill the log
	Churn    float64
	// Arrival is how a step's sends are spread in time: ArrivalEven (the
	// default) or ArrivalPoisson; Burst > 0 sends clumps of Burst instead
	// (ArrivalBurst), for comparison with the generator's old pacing.
	Arrival string
	Burst   int
	Procs   int
	// Concurrency bounds the connection attempts in progress, per process.
	Concurrency int
	// Settle bounds the wait, after a step's sending, for acknowledgements
	// and deliveries.
	Settle time.Duration
	JSON   bool

	// ServerCommand is the argv that starts a server ("parley serve"); the
	// address and database flags are appended. WorkerCommand returns a
	// command that runs Worker on its standard input and output. Both
	// default to this executable.
	ServerCommand []string
	WorkerCommand func() *exec.Cmd

	perSource int // connections per source address; tests make it small
}

// ErrIncorrect is returned (wrapped) by Run when the server lost,
// duplicated or reordered entries: correctness is part of the bench.
var ErrIncorrect = errors.New("the server broke the delivery promise")

// Report is the outcome of a run: one Step per step of its scenario.
type Report struct {
	Steps []Step
}

// withDefaults fills in the defaults of c's scenario and checks c.
func (c Config) withDefaults() (Config, error) {
	set := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Settle <= 0 {
		c.Settle = 15 * time.Second
	}
	set(&c.Size, 100)
	set(&c.Procs, 1)
	set(&c.Concurrency, 200)
	switch c.Scenario {
	case "idle":
		set(&c.Conns, 1000)
		c.RoomSize = 1
	case "fanout":
		set(&c.Members, 1000)
		if len(c.Rates) == 0 {
			c.Rates = []float64{100, 250}
		}
	case "rooms":
		set(&c.Conns, 1000)
		set(&c.RoomSize, 10)
		if len(c.Rates) == 0 {
			c.Rates = []float64{200}
		}
	case "history":
		set(&c.Entries, 100000)
		set(&c.Readers, 1)
		set(&c.Fillers, 100)
		if c.Procs > 1 {
			return c, errors.New("history runs in one process; drop --procs")
		}
	case "churn":
		set(&c.Conns, 200)
		set(&c.RoomSize, 10)
		if len(c.Rates) == 0 {
			c.Rates = []float64{100}
		}
		if c.Churn <= 0 {
			c.Churn = 20
		}
	default:
		return c, fmt.Errorf("unknown scenario %q (one of %s)", c.Scenario, strings.Join(Scenarios, ", "))
	}
	if c.Spawn == (c.URL != "") {
		return c, errors.New("give either --url or --spawn")
	}
	if c.RestartAfter < 0 || c.RestartAfter > 0 && !c.Spawn {
		return c, errors.New("--restart-after takes a positive duration, and --spawn: the generator restarts only a server it started")
	}
	if c.Database != "" && !c.Spawn {
		return c, errors.New("--database takes --spawn: with --url, the server has its database already")
	}
	if c.RestartAfter >= c.Duration {
		return c, fmt.Errorf("--restart-after %v: must be shorter than --duration %v, to restart within each step", c.RestartAfter, c.Duration)
	}
	switch {
	case c.Burst < 0:
		return c, fmt.Errorf("--burst %d: must be positive", c.Burst)
	case c.Burst > 0 && c.Arrival != "" && c.Arrival != ArrivalBurst:
		return c, fmt.Errorf("--burst sends clumps, --arrival %s does not: give one of them", c.Arrival)
	case c.Burst > 0:
		c.Arrival = ArrivalBurst
	case c.Arrival == "":
		c.Arrival = ArrivalEven
	case c.Arrival != ArrivalEven && c.Arrival != ArrivalPoisson:
		return c, fmt.Errorf("--arrival %q: even or poisson (for clumps, --burst N)", c.Arrival)
	}
	if c.Size < 21 || c.Size > 4096 {
		return c, fmt.Errorf("--size %d: must be between 21 and 4096 bytes", c.Size)
	}
	for _, r := range c.Rates {
		if r <= 0 || math.IsInf(r, 0) || math.IsNaN(r) {
			return c, fmt.Errorf("rate %v: must be positive", r)
		}
		switch c.Scenario {
		case "fanout":
			if senders(r) > c.Members {
				return c, fmt.Errorf("rate %v msg/s needs %d members taking turns at %d msg/s each (the server's per-connection limit), but the room has %d", r, senders(r), maxMemberRate, c.Members)
			}
		case "rooms", "churn":
			if r/float64(c.Conns) > maxMemberRate {
				return c, fmt.Errorf("rate %v msg/s over %d connections is %.1f msg/s each, over the %d a connection may send", r, c.Conns, r/float64(c.Conns), maxMemberRate)
			}
		}
	}
	if c.Scenario == "churn" && c.Churn > float64(c.Conns) {
		return c, fmt.Errorf("--churn %v a second is more than the %d connections", c.Churn, c.Conns)
	}
	if c.ServerCommand == nil || c.WorkerCommand == nil {
		exe, err := os.Executable()
		if err != nil {
			return c, err
		}
		if c.ServerCommand == nil {
			c.ServerCommand = []string{exe, "serve"}
		}
		if c.WorkerCommand == nil {
			c.WorkerCommand = func() *exec.Cmd { return exec.Command(exe, "bench", "-worker") }
		}
	}
	return c, nil
}

// senders returns how many members must take turns to send rate messages a
// second within the server's per-connection limit.
func senders(rate float64) int { return int(math.Ceil(rate / maxMemberRate)) }

// Run runs cfg's scenario, writing progress to progress and a report for
// people (or JSON lines with cfg.JSON) to out. It returns the report, and
// an error wrapping ErrIncorrect when the server lost, duplicated or
// reordered any entry.
func Run(ctx context.Context, cfg Config, out, progress io.Writer) (*Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	b := &bench{cfg: cfg, out: out, progress: progress, http: &http.Client{}}
	limit, err := raiseFileLimit()
	if err != nil {
		b.logf("could not raise the open-file limit: %v", err)
	}

	if cfg.Spawn {
		b.logf("starting a server: %s", strings.Join(cfg.ServerCommand, " "))
		srv, err := spawnServer(ctx, cfg.ServerCommand, cfg.Database)
		if err != nil {
			return nil, err
		}
		b.srv = srv
		defer func() {
			if err := srv.stop(); err != nil {
				b.logf("%v", err)
			}
		}()
		cfg.URL = "ws://" + srv.addr + "/ws"
		b.cfg.URL = cfg.URL
		b.logf("server listening on %s", srv.addr)
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") {
		return nil, fmt.Errorf("--url %q: want ws://HOST:PORT/ws", cfg.URL)
	}
	b.metrics = metricsURL(cfg.URL)

	total := cfg.Conns
	roomSize := cfg.RoomSize
	switch cfg.Scenario {
	case "fanout":
		total, roomSize = cfg.Members, cfg.Members
	case "history":
		total, roomSize = cfg.Fillers, cfg.Fillers+cfg.Readers
	}
	perProc := (total + cfg.Procs - 1) / cfg.Procs
	if limit > 0 && uint64(perProc+cfg.Readers+64) > limit {
		return nil, fmt.Errorf("%d connections per process, but a process may open %d files: use --procs %d or more", perProc, limit, (total+int(limit)-200)/int(limit-100)+1)
	}
	if cfg.perSource <= 0 {
		cfg.perSource = perSource
	}
	spread := total > cfg.perSource && isLoopback(u.Hostname())
	if spread {
		if (total-1)/cfg.perSource > 253 {
			return nil, fmt.Errorf("%d connections need more source addresses than 127.0.0.1 to 127.0.0.254", total)
		}
		b.logf("spreading connections over source addresses 127.0.0.1 to 127.0.0.%d", 1+(total-1)/cfg.perSource)
	}
	runID := newRunID()
	for i := range cfg.Procs {
		first := i * perProc
		count := min(perProc, total-first)
		if count <= 0 {
			break
		}
		p := plan{URL: cfg.URL, RunID: runID, Scenario: cfg.Scenario, First: first, Count: count, Total: total,
			RoomSize: roomSize, Size: cfg.Size, Concurrency: cfg.Concurrency, Spread: spread, PerSource: cfg.perSource}
		var r runner
		if cfg.Procs == 1 {
			a, err := newAgent(ctx, p)
			if err != nil {
				return nil, err
			}
			b.local = a
			r = local{a}
		} else {
			cmd := cfg.WorkerCommand()
			cmd.Stderr = progress
			if r, err = startRemote(cmd, p); err != nil {
				b.closeRunners()
				return nil, err
			}
		}
		b.runners = append(b.runners, r)
	}
	defer b.closeRunners()

	switch cfg.Scenario {
	case "idle":
		err = b.idle(ctx)
	case "fanout":
		err = b.fanout(ctx)
	case "rooms", "churn":
		err = b.rooms(ctx)
	case "history":
		err = b.history(ctx)
	}
	if err != nil {
		return &b.report, err
	}
	if !cfg.JSON {
		b.summary()
	}
	var lost, dups, reordered int64
	for _, s := range b.report.Steps {
		lost += s.Lost
		dups += s.Duplicated
		reordered += s.OutOfOrder
	}
	if lost+dups+reordered > 0 {
		return &b.report, fmt.Errorf("%w: %d lost, %d duplicated, %d out of order", ErrIncorrect, lost, dups, reordered)
	}
	return &b.report, nil
}

// bench is one run in progress.
type bench struct {
	cfg      Config
	out      io.Writer
	progress io.Writer
	http     *http.Client
	metrics  string   // the server's /metrics address
	srv      *spawned // nil unless Spawn
	runners  []runner
	local    *agent // the agent when there is one process
	report   Report
	listened time.Time // when the restarted server listened again
	conns    int       // connections open
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.progress, "bench: "+format+"\n", args...)
}

func (b *bench) closeRunners() {
	all(b.runners, func(_ int, r runner) error { return r.close() })
	b.runners = nil
}

// sample reads the server's figures from its /metrics or, for a spawned
// server without them, from /proc.
func (b *bench) sample(ctx context.Context) serverSample {
	s := sampleServer(ctx, b.http, b.metrics)
	if !s.ok && b.srv != nil {
		s = sampleProcess(b.srv.pid())
	}
	return s
}

// connect opens every runner's connections and reports it as a step.
func (b *bench) connect(ctx context.Context) (serverSample, error) {
	before := b.sample(ctx)
	b.logf("opening connections (%s, %d process(es))", b.cfg.URL, len(b.runners))
	host0 := sampleHost()
	results := make([]connectResult, len(b.runners))
	err := all(b.runners, func(i int, r runner) (err error) {
		results[i], err = r.connect()
		return err
	})
	if err != nil {
		return before, err
	}
	after := b.sample(ctx)
	s := Step{Scenario: b.cfg.Scenario, Step: "connect", Errors: make(map[string]int64)}
	var start, end int64
	var lat Histogram
	var cpu float64
	for _, r := range results {
		cpu += r.CPU
		s.Connections += r.OK
		s.ConnectFailures += r.Failed
		if start == 0 || r.Start < start {
			start = r.Start
		}
		end = max(end, r.End)
		lat.Merge(&r.Latency)
		for k, v := range r.Errors {
			s.Errors[k] += v
		}
	}
	b.conns = s.Connections
	s.Seconds = float64(end-start) / 1e9
	if s.Seconds > 0 {
		s.ConnectRate = float64(s.Connections) / s.Seconds
	}
	s.Connect = latency(&lat)
	s.HostCPU = hostCores(host0, sampleHost())
	s.ServerCPU = cores(before, after)
	s.ServerRSS = rss(after)
	if s.Seconds > 0 {
		s.GeneratorCPU = cpu / s.Seconds
	}
	if s.Connections == 0 {
		b.emit(s)
		return before, errors.New("no connection could be opened")
	}
	// Let the join entries reach everyone, and account for them here, so
	// that the steps start quiet and count only their own traffic.
	// Entries may still be on their way when a round's final is taken:
	// repeat until a round brings nothing new.
	s.Closes = make(map[string]int64)
	for round := 0; round < 5; round++ {
		q, err := b.load(ctx, "connect", step{})
		if err != nil {
			return before, err
		}
		s.Expected += q.Expected
		s.Received += q.Received
		s.Lost += q.Lost
		s.Duplicated += q.Duplicated
		s.OutOfOrder += q.OutOfOrder
		s.Foreign += q.Foreign
		s.Reconnects += q.Reconnects
		s.Incomplete = q.Incomplete
		for k, v := range q.Closes {
			s.Closes[k] += v
		}
		for k, v := range q.Errors {
			s.Errors[k] += v
		}
		if q.Received == 0 && q.Reconnects == 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.emit(s)
	return before, nil
}

// load runs one step on every runner and reports it.
func (b *bench) load(ctx context.Context, name string, st step) (Step, error) {
	st.Settle = b.cfg.Settle
	st.Pacing = pacing{Arrival: b.cfg.Arrival, Burst: b.cfg.Burst}
	if st.Rate > 0 && st.SendCount > 0 {
		b.logf("pacing: %s", st.Pacing.describe(st.Rate, st.SendCount))
	}
	host0 := sampleHost()
	before := b.sample(ctx)
	// A step that sends or holds, not the connect phase's rounds, may
	// restart the server.
	var restarted <-chan error
	if b.srv != nil && b.cfg.RestartAfter > 0 && st.Duration > 0 {
		restarted = b.restartAfter(ctx)
	}
	finals := make([]map[string]int64, len(b.runners))
	err := all(b.runners, func(i int, r runner) (err error) {
		finals[i], err = r.run(ctx, st)
		return err
	})
	if restarted != nil {
		err = errors.Join(err, <-restarted)
	}
	if err != nil {
		return Step{}, err
	}
	final := maxRooms(finals...)
	results := make([]result, len(b.runners))
	err = all(b.runners, func(i int, r runner) (err error) {
		results[i], err = r.settle(ctx, final, b.cfg.Settle)
		return err
	})
	if err != nil {
		return Step{}, err
	}
	after := b.sample(ctx)
	s := b.step(name, st, results)
	s.HostCPU = hostCores(host0, sampleHost())
	s.ServerCPU = cores(before, after)
	s.ServerRSS = rss(after)
	if restarted != nil {
		s.ServerRestarts = 1
		s.ServerCPU = nil // the new process counts from its start
		var back, resumed int64
		for _, r := range results {
			back, resumed = max(back, r.LastBack), max(resumed, r.LastResumed)
			s.NotResumed += r.NotResumed
		}
		if back > 0 {
			v := time.Unix(0, back).Sub(b.listened).Seconds()
			s.BackSeconds = &v
		}
		if resumed > 0 && s.NotResumed == 0 {
			v := time.Unix(0, resumed).Sub(b.listened).Seconds()
			s.ResumedSeconds = &v
		}
	}
	return s, nil
}

// restartAfter restarts the spawned server RestartAfter from now and sends
// the outcome on the channel it returns.
func (b *bench) restartAfter(ctx context.Context) <-chan error {
	done := make(chan error, 1)
	go func() {
		select {
		case <-time.After(b.cfg.RestartAfter):
		case <-ctx.Done():
			done <- ctx.Err()
			return
		}
		b.logf("restarting the server")
		if err := b.srv.restart(ctx); err != nil {
			done <- fmt.Errorf("restart the server: %w", err)
			return
		}
		b.listened = time.Now()
		b.logf("server listening again on %s", b.srv.addr)
		done <- nil
	}()
	return done
}

// step merges the runners' results of one step into a Step.
func (b *bench) step(name string, st step, results []result) Step {
	s := Step{Scenario: b.cfg.Scenario, Step: name, TargetRate: st.Rate, Connections: b.conns,
		Closes: make(map[string]int64), Errors: make(map[string]int64)}
	if st.Rate > 0 && st.SendCount > 0 {
		s.Pacing = st.Pacing.describe(st.Rate, st.SendCount)
	}
	var ack, deliver Histogram
	var start, end, last int64
	var cpu float64
	for _, r := range results {
		s.Sent += r.Sent
		s.Resent += r.Resent
		s.Acked += r.Acked
		s.SendErrors += r.SendErrors
		s.Unacked += r.Unacked
		s.Expected += r.Expected
		s.Received += r.Received
		s.Lost += r.Lost
		s.Duplicated += r.Duplicated
		s.OutOfOrder += r.OutOfOrder
		s.Incomplete += r.Incomplete
		s.Foreign += r.Foreign
		s.Reconnects += r.Reconnects
		s.Messages += r.Messages
		for k, v := range r.Closes {
			s.Closes[k] += v
		}
		for k, v := range r.Errors {
			s.Errors[k] += v
		}
		ack.Merge(&r.Ack)
		deliver.Merge(&r.Deliver)
		if start == 0 || r.SendStart < start {
			start = r.SendStart
		}
		end = max(end, r.SendEnd)
		last = max(last, r.LastEntry)
		cpu += r.CPU
	}
	s.Seconds = float64(end-start) / 1e9
	if s.Seconds > 0 {
		s.SendRate = float64(s.Sent) / s.Seconds
		s.AckRate = float64(s.Acked) / s.Seconds
	}
	if window := float64(max(last, end)-start) / 1e9; window > 0 {
		s.DeliveryRate = float64(s.Received) / window
		s.GeneratorCPU = cpu / float64(time.Since(time.Unix(0, start)).Seconds())
	}
	s.Ack = latency(&ack)
	s.Deliver = latency(&deliver)
	if b.srv != nil {
		s.SlowClosesLogged = b.srv.slowClients()
	}
	return s
}

func (b *bench) idle(ctx context.Context) error {
	before, err := b.connect(ctx)
	if err != nil {
		return err
	}
	b.logf("holding %d connections for %v", b.conns, b.cfg.Duration)
	s, err := b.load(ctx, "hold", step{Duration: b.cfg.Duration})
	if err != nil {
		return err
	}
	if s.ServerRSS != nil && before.ok && b.conns > 0 {
		v := (*s.ServerRSS - before.rss) / float64(b.conns)
		s.ServerRSSPerConn = &v
	}
	b.emit(s)
	return nil
}

func (b *bench) fanout(ctx context.Context) error {
	if _, err := b.connect(ctx); err != nil {
		return err
	}
	for _, r := range b.cfg.Rates {
		k := senders(r)
		b.logf("step: %v msg/s from %d members taking turns, to %d members, for %v", r, k, b.conns, b.cfg.Duration)
		s, err := b.load(ctx, fmt.Sprintf("%g msg/s", r), step{Rate: r, SendFirst: 0, SendCount: k, Duration: b.cfg.Duration})
		if err != nil {
			return err
		}
		s.Senders = k
		b.emit(s)
	}
	return nil
}

func (b *bench) rooms(ctx context.Context) error {
	if _, err := b.connect(ctx); err != nil {
		return err
	}
	churn := 0.0
	if b.cfg.Scenario == "churn" {
		churn = b.cfg.Churn
	}
	for _, r := range b.cfg.Rates {
		b.logf("step: %v msg/s over %d connections in rooms of %d, %v connections dropped and resumed a second, for %v",
			r, b.conns, b.cfg.RoomSize, churn, b.cfg.Duration)
		s, err := b.load(ctx, fmt.Sprintf("%g msg/s", r), step{Rate: r, SendFirst: 0, SendCount: b.cfg.Conns, Duration: b.cfg.Duration, ChurnRate: churn})
		if err != nil {
			return err
		}
		s.Senders = b.cfg.Conns
		b.emit(s)
	}
	return nil
}

func (b *bench) history(ctx context.Context) error {
	if _, err := b.connect(ctx); err != nil {
		return err
	}
	rate := float64(b.cfg.Fillers * maxMemberRate)
	b.logf("filling the log to %d entries: %d members sending %v msg/s in all (at most 5 minutes)", b.cfg.Entries, b.cfg.Fillers, rate)
	s, err := b.load(ctx, "fill", step{Rate: rate, SendFirst: 0, SendCount: b.cfg.Fillers, Duration: 5 * time.Minute, Until: int64(b.cfg.Entries)})
	if err != nil {
		return err
	}
	s.Senders = b.cfg.Fillers
	b.emit(s)

	a := b.local
	name := a.members[0].room.name
	var readers []*member
	for i := range b.cfg.Readers {
		m := a.addMember(a.plan.Total+i, name)
		m.fromStart = true
		readers = append(readers, m)
	}
	b.logf("replaying: %d reader(s) join with since 0", len(readers))
	host0 := sampleHost()
	before := b.sample(ctx)
	cpu0 := cpuTime()
	cr := a.connect(readers)
	// Wait until every reader has caught up and received an entry after
	// the replay (its own join, which the server appends after replaying),
	// or none has received anything for the settle time. The final numbers
	// that the check below takes then count every reader's join entry;
	// taken sooner, they could miss one that every member receives later.
	var progress int64
	stalled := time.Now()
	for ctx.Err() == nil && time.Since(stalled) < b.cfg.Settle {
		done := true
		var received int64
		for _, m := range readers {
			m.mu.Lock()
			done = done && (!m.joined || m.caughtUp != 0 && m.t.high > m.joinLast)
			received += m.t.received
			m.mu.Unlock()
		}
		if done {
			break
		}
		if received != progress {
			progress, stalled = received, time.Now()
		}
		time.Sleep(5 * time.Millisecond)
	}
	after := b.sample(ctx)
	r := Step{Scenario: "history", Step: "replay", Connections: cr.OK, ConnectFailures: cr.Failed}
	var start, end int64
	for _, m := range readers {
		m.mu.Lock()
		if m.joined {
			r.Replayed += m.joinLast
			if start == 0 || m.joinAt < start {
				start = m.joinAt
			}
			end = max(end, m.caughtUp)
			if m.caughtUp == 0 {
				end = max(end, m.lastEntry)
			}
		}
		m.mu.Unlock()
	}
	if start > 0 && end > start {
		r.Seconds = float64(end-start) / 1e9
		r.ReplayRate = float64(r.Replayed) / r.Seconds
		r.GeneratorCPU = (cpuTime() - cpu0) / time.Since(time.Unix(0, start)).Seconds()
	}
	r.HostCPU = hostCores(host0, sampleHost())
	r.ServerCPU = cores(before, after)
	r.ServerRSS = rss(after)
	// Check what every member got, readers included.
	final := a.run(ctx, step{Settle: b.cfg.Settle})
	res := a.settle(ctx, final, b.cfg.Settle)
	r.Expected, r.Received, r.Lost, r.Duplicated, r.OutOfOrder = res.Expected, res.Received, res.Lost, res.Duplicated, res.OutOfOrder
	r.Incomplete += res.Incomplete
	b.emit(r)
	return nil
}

// emit adds s to the report and writes it.
func (b *bench) emit(s Step) {
	b.report.Steps = append(b.report.Steps, s)
	if b.cfg.JSON {
		line, _ := json.Marshal(s)
		fmt.Fprintf(b.out, "%s\n", line)
		return
	}
	s.write(b.out)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// newRunID returns a short random id that keeps nicknames and rooms of
// different runs apart.
func newRunID() string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 6)
	rand.Read(b)
	for i := range b {
		b[i] = digits[int(b[i])%len(digits)]
	}
	return string(b)
}
