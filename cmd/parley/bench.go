package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/loadgen"
)

const benchHelp = `Usage: parley bench SCENARIO (--url ws://HOST:PORT/ws | --spawn) [flags]

Measure a Parley server by speaking its WebSocket protocol as real clients
do (hello, join with since, send with client ids, acks, resume), checking
while it measures that every member receives every log entry of its room
exactly once and in order. Every scenario is bounded in connections, rate
and time, and stops by itself. The exit status is 1 when any entry was lost,
duplicated or delivered out of order.

Scenarios:
  idle     Open --conns connections, each in a room of its own, and hold
           them for --duration: connect rate and latency, and the server's
           resident memory per connection.
  fanout   --members members in one room; for each rate of --rate (messages
           a second, one step each, stepping up) members take turns sending
           for --duration: deliveries/s (rate x members), send->ack and
           send->deliver latency, loss. One connection may send at most 20
           frames a second, so ceil(rate/15) members take turns, each
           sending at most 15 a second.
  rooms    --conns connections in rooms of --room-size; the total --rate is
           spread over all of them (at most 15 a second each): deliveries/s,
           send->ack and send->deliver latency, loss.
  history  --fillers members fill one room's log to --entries entries, each
           sending 15 messages a second (the acknowledged rate is reported),
           then --readers clients join with since 0: entries replayed a
           second. Runs in one process.
  churn    Like rooms, while --churn connections a second are dropped
           without a close handshake; each reconnects with its session,
           resumes from the last entry it has and resends what was not
           acknowledged. Loss must stay zero.

Target:
  --url URL          the server's WebSocket endpoint, ws://HOST:PORT/ws; run
                     that server with -limits=false, since every connection
                     comes from this machine's address
  --spawn            start a throw-away server (this binary, serve, on
                     127.0.0.1 and a free port, SQLite in a temporary
                     directory, -limits=false), run against it, then stop
                     it with SIGTERM and remove the directory
  --database DB      with --spawn: the server's -database, such as a
                     postgres:// URL, to measure the PostgreSQL store
                     (default: SQLite in the temporary directory); runs
                     may share one database, as their names differ
  --restart-after D  with --spawn: restart the server D into every step
                     after the connections are open (SIGTERM, then serve
                     again on the same database and address); every client
                     is closed with 1001, reconnects and resumes, and
                     nothing may be lost or repeated

Load:
  --conns N          idle, rooms, churn: connections (defaults 1000, 1000, 200)
  --members N        fanout: members of the room (default 1000)
  --room-size N      rooms, churn: members per room (default 10)
  --rate LIST        fanout, rooms, churn: messages a second in all, a
                     comma-separated list for several steps (defaults:
                     fanout 100,250; rooms 200; churn 100)
  --duration D       how long each step sends, or idle holds (default 10s)
  --size N           bytes of message text, 21 to 4096 (default 100)
  --entries N        history: entries to fill the log with (default 100000)
  --fillers N        history: members filling the log (default 100)
  --readers N        history: clients replaying at once (default 1)
  --churn N          churn: connections dropped and resumed a second (default 20)
  --arrival A        how the sends are spread in time: even (the default:
                     each sender sends at its own steady interval, the
                     senders' phases spread over it, members of one room
                     apart, so the step's messages leave evenly spaced) or
                     poisson (exponential gaps at the step's rate, each
                     send by a sender drawn at random)
  --burst N          send in clumps of N messages back to back instead,
                     members taking turns in order (neighbours share a
                     room): the generator's pacing before 2026-12-06 was
                     like --burst 4; a server packs more into each commit
                     and write than people's traffic allows, and looks
                     better than it is
  --settle D         after a step's sending, how long to wait at most for
                     acknowledgements and deliveries (default 15s)

Scale:
  --procs N          spread the connections over N worker processes (this
                     binary), merging their reports: a process can hold
                     only as many connections as its open-file limit allows.
                     The soft limit is raised to the hard one by itself, and
                     beyond 4,000 connections to a loopback server the
                     source addresses are spread over 127.0.0.1, 127.0.0.2, ...
  --concurrency N    connection attempts in progress at once, per process
                     (default 200)

Output:
  --json             one JSON line per step instead of tables
  --cpuprofile FILE  write the generator's own CPU profile to FILE

Each step reports connections, messages sent and acknowledged a second,
deliveries expected and received, lost / duplicated / out-of-order entries
(by sequence number, per member and room), p50/p95/p99/max latency in ms,
the server's CPU (cores) and resident memory from its /metrics ("n/a" when
it has none), and the generator's own CPU (cores) so you can judge its
share of the machine.

Examples:
  parley bench idle --spawn --conns 19000
  parley bench fanout --spawn --members 1000 --rate 100,250,500
  parley bench rooms --url ws://chat.example:8080/ws --conns 10000 --rate 2000
  parley bench fanout --spawn --members 5000 --rate 10 --duration 40s --restart-after 12s
`

// bench runs the load generator: parley bench SCENARIO [flags].
func bench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg loadgen.Config
	fs := flag.NewFlagSet("parley bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.URL, "url", "", "")
	fs.BoolVar(&cfg.Spawn, "spawn", false, "")
	fs.DurationVar(&cfg.RestartAfter, "restart-after", 0, "")
	fs.StringVar(&cfg.Database, "database", "", "")
	fs.IntVar(&cfg.Conns, "conns", 0, "")
	fs.IntVar(&cfg.Members, "members", 0, "")
	fs.IntVar(&cfg.RoomSize, "room-size", 0, "")
	rates := fs.String("rate", "", "")
	fs.DurationVar(&cfg.Duration, "duration", 0, "")
	fs.IntVar(&cfg.Size, "size", 0, "")
	fs.IntVar(&cfg.Entries, "entries", 0, "")
	fs.IntVar(&cfg.Fillers, "fillers", 0, "")
	fs.IntVar(&cfg.Readers, "readers", 0, "")
	fs.Float64Var(&cfg.Churn, "churn", 0, "")
	fs.StringVar(&cfg.Arrival, "arrival", "", "")
	fs.IntVar(&cfg.Burst, "burst", 0, "")
	fs.DurationVar(&cfg.Settle, "settle", 0, "")
	fs.IntVar(&cfg.Procs, "procs", 0, "")
	fs.IntVar(&cfg.Concurrency, "concurrency", 0, "")
	fs.BoolVar(&cfg.JSON, "json", false, "")
	cpuprofile := fs.String("cpuprofile", "", "")
	worker := fs.Bool("worker", false, "") // hidden: a child of --procs

	// The scenario may come before or after the flags.
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cfg.Scenario, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, benchHelp)
			return nil
		}
		return fmt.Errorf("bench: %v (run 'parley bench -help')", err)
	}
	if *worker {
		return loadgen.Worker(ctx, os.Stdin, stdout)
	}
	if cfg.Scenario == "" && fs.NArg() > 0 {
		cfg.Scenario = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return fmt.Errorf("bench: %v (run 'parley bench -help')", err)
		}
	}
	switch {
	case cfg.Scenario == "" || cfg.Scenario == "help":
		fmt.Fprint(stdout, benchHelp)
		if cfg.Scenario == "" {
			return errors.New("bench: name a scenario: " + strings.Join(loadgen.Scenarios, ", "))
		}
		return nil
	case fs.NArg() > 0:
		return fmt.Errorf("bench: unexpected argument %q (run 'parley bench -help')", fs.Arg(0))
	}
	if *rates != "" {
		for _, f := range strings.Split(*rates, ",") {
			r, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil {
				return fmt.Errorf("bench: --rate %q: not a list of numbers", *rates)
			}
			cfg.Rates = append(cfg.Rates, r)
		}
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	_, err := loadgen.Run(ctx, cfg, stdout, stderr)
	if err != nil {
		return fmt.Errorf("bench %s: %w", cfg.Scenario, err)
	}
	fmt.Fprintf(stderr, "bench: %s done in %v\n", cfg.Scenario, time.Since(start).Round(time.Millisecond))
	return nil
}
