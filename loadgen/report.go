package loadgen

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Step is the report of one step of a scenario; with --json it is written as
// one JSON line. Counts are of the step only. Rates are per second of the
// step's sending window; DeliveryRate's window runs to the last delivery.
// Lost counts the entries missing when the generator stopped waiting for
// them: when some that an earlier step counted arrive after all, a later
// step's Lost is less by as many, so the steps' sum is what never came.
type Step struct {
	Scenario string `json:"scenario"`
	Step     string `json:"step"`

	Connections     int              `json:"connections"`
	ConnectFailures int              `json:"connectFailures,omitempty"`
	ConnectRate     float64          `json:"connectsPerSec,omitempty"`
	Connect         *Latency         `json:"connectMs,omitempty"`
	Senders         int              `json:"senders,omitempty"`
	TargetRate      float64          `json:"targetMsgsPerSec,omitempty"`
	Pacing          string           `json:"pacing,omitempty"` // how the sends were spread in time
	Seconds         float64          `json:"seconds"`
	Sent            int64            `json:"sent"`
	Resent          int64            `json:"resent,omitempty"`
	Acked           int64            `json:"acked"`
	SendErrors      int64            `json:"sendErrors"`
	Unacked         int64            `json:"unacked"`
	SendRate        float64          `json:"sentPerSec"`
	AckRate         float64          `json:"ackedPerSec"`
	Expected        int64            `json:"expected"`
	Received        int64            `json:"received"`
	Lost            int64            `json:"lost"`
	Duplicated      int64            `json:"duplicated"`
	OutOfOrder      int64            `json:"outOfOrder"`
	Incomplete      int              `json:"incompleteMembers,omitempty"`
	Foreign         int64            `json:"foreign,omitempty"`
	DeliveryRate    float64          `json:"deliveriesPerSec"`
	Ack             *Latency         `json:"ackMs,omitempty"`
	Deliver         *Latency         `json:"deliverMs,omitempty"`
	Replayed        int64            `json:"replayed,omitempty"`
	ReplayRate      float64          `json:"replayedPerSec,omitempty"`
	Reconnects      int64            `json:"reconnects,omitempty"`
	Messages        int64            `json:"wsMessages"` // WebSocket messages that carried the events received
	Closes          map[string]int64 `json:"closes,omitempty"`
	Errors          map[string]int64 `json:"errors,omitempty"`

	// Server figures come from its /metrics; nil when it has none.
	ServerCPU        *float64 `json:"serverCores"`
	ServerRSS        *float64 `json:"serverRssBytes"`
	ServerRSSPerConn *float64 `json:"serverBytesPerConn,omitempty"`
	SlowClosesLogged int      `json:"slowClosesLogged,omitempty"` // --spawn only: "closing slow client" log lines so far
	ServerRestarts   int      `json:"serverRestarts,omitempty"`   // --restart-after only: restarts during the step
	// With --restart-after: seconds from the restarted server listening
	// to the last member joined again, and to the last member having every
	// entry up to its joined's lastSeq; how many members never did.
	BackSeconds    *float64 `json:"backSeconds,omitempty"`
	ResumedSeconds *float64 `json:"resumedSeconds,omitempty"`
	NotResumed     int      `json:"notResumed,omitempty"`
	GeneratorCPU   float64  `json:"generatorCores"`
	// HostCPU is the cores busy on the generator's machine, every process
	// included: beyond server and generator, what else took the machine.
	HostCPU *float64 `json:"hostCores,omitempty"`
}

// Latency summarises a histogram, in milliseconds.
type Latency struct {
	Count uint64  `json:"count"`
	P50   float64 `json:"p50"`
	P95   float64 `json:"p95"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

func latency(h *Histogram) *Latency {
	if h.Count == 0 {
		return nil
	}
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	return &Latency{
		Count: h.Count,
		P50:   ms(h.Quantile(0.50)),
		P95:   ms(h.Quantile(0.95)),
		P99:   ms(h.Quantile(0.99)),
		Max:   float64(h.Max) / 1e3,
	}
}

func (l *Latency) String() string {
	if l == nil {
		return "n/a"
	}
	return fmt.Sprintf("p50 %s  p95 %s  p99 %s  max %s ms (%d)", ms(l.P50), ms(l.P95), ms(l.P99), ms(l.Max), l.Count)
}

func ms(v float64) string {
	switch {
	case v < 10:
		return fmt.Sprintf("%.2f", v)
	case v < 100:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

// write writes s for people.
func (s *Step) write(w io.Writer) {
	fmt.Fprintf(w, "\n%s: %s\n", s.Scenario, s.Step)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, args ...any) {
		fmt.Fprintf(tw, "  %s\t"+format+"\n", append([]any{k}, args...)...)
	}
	if s.Step == "connect" {
		row("connections", "%d open, %d failed, in %.2fs: %.0f/s", s.Connections, s.ConnectFailures, s.Seconds, s.ConnectRate)
		row("connect latency", "%s", s.Connect)
	} else {
		row("connections", "%d", s.Connections)
	}
	if s.Senders > 0 || s.Sent > 0 {
		row("messages", "target %g/s from %d members; sent %d (%.0f/s), acked %d (%.0f/s), errors %d, unacked %d, resent %d",
			s.TargetRate, s.Senders, s.Sent, s.SendRate, s.Acked, s.AckRate, s.SendErrors, s.Unacked, s.Resent)
		if s.Pacing != "" {
			row("pacing", "%s", s.Pacing)
		}
		row("send→ack", "%s", s.Ack)
		row("send→deliver", "%s", s.Deliver)
	}
	if s.Expected > 0 || s.Received > 0 {
		batch := ""
		if s.Messages > 0 {
			batch = fmt.Sprintf(", %.1f events per WebSocket message", float64(s.Received)/float64(s.Messages))
		}
		row("deliveries", "expected %d, received %d (%.0f/s)%s", s.Expected, s.Received, s.DeliveryRate, batch)
		lost := fmt.Sprint(s.Lost)
		if s.Lost < 0 {
			lost = fmt.Sprintf("0 (%d counted lost at an earlier step's end came since)", -s.Lost)
		}
		row("correctness", "lost %s, duplicated %d, out of order %d, members incomplete %d, other rooms %d",
			lost, s.Duplicated, s.OutOfOrder, s.Incomplete, s.Foreign)
	}
	if s.Replayed > 0 {
		row("replay", "%d entries in %.2fs: %.0f entries/s", s.Replayed, s.Seconds, s.ReplayRate)
	}
	if s.Reconnects > 0 || len(s.Closes) > 0 {
		row("reconnects", "%d; closes by code %s", s.Reconnects, counts(s.Closes))
	}
	if len(s.Errors) > 0 {
		row("errors", "%s", counts(s.Errors))
	}
	perConn := ""
	if s.ServerRSSPerConn != nil {
		perConn = fmt.Sprintf(", %.1f KB per connection", *s.ServerRSSPerConn/1024)
	}
	restarted := ""
	if s.ServerRestarts > 0 {
		restarted = fmt.Sprintf("; restarted %d time(s) during the step", s.ServerRestarts)
	}
	if s.ServerRestarts > 0 {
		row("after restart", "last member back %ss and caught up %ss after the server listened again; %d never caught up",
			fmtOpt(s.BackSeconds, "%.2f"), fmtOpt(s.ResumedSeconds, "%.2f"), s.NotResumed)
	}
	row("server", "CPU %s cores, RSS %s MB%s%s", fmtOpt(s.ServerCPU, "%.2f"), fmtOpt(mb(s.ServerRSS), "%.1f"), perConn, restarted)
	if s.SlowClosesLogged > 0 {
		row("server log", "%d slow clients closed so far", s.SlowClosesLogged)
	}
	row("generator", "CPU %.2f cores; this machine, all processes: %s cores", s.GeneratorCPU, fmtOpt(s.HostCPU, "%.2f"))
	tw.Flush()
}

func mb(v *float64) *float64 {
	if v == nil {
		return nil
	}
	x := *v / (1 << 20)
	return &x
}

func counts(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s: %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// summary writes one line per step, for comparing steps.
func (b *bench) summary() {
	w := tabwriter.NewWriter(b.out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "\nstep\tconns\tmsg/s\tdeliv/s\tlost\tdup\tooo\tack p99\tdeliv p50\tp99\tmax ms\tsrv CPU\tsrv RSS MB\tgen CPU\thost CPU\t\n")
	for _, s := range b.report.Steps {
		p50, p99, mx, ap99 := "-", "-", "-", "-"
		if s.Deliver != nil {
			p50, p99, mx = ms(s.Deliver.P50), ms(s.Deliver.P99), ms(s.Deliver.Max)
		}
		if s.Ack != nil {
			ap99 = ms(s.Ack.P99)
		}
		rate := s.AckRate
		deliv := s.DeliveryRate
		if s.Step == "connect" {
			rate, deliv = 0, 0
		}
		if s.ReplayRate > 0 {
			deliv = s.ReplayRate
		}
		fmt.Fprintf(w, "%s\t%d\t%.0f\t%.0f\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%.2f\t%s\t\n",
			s.Step, s.Connections, rate, deliv, max(s.Lost, 0), s.Duplicated, s.OutOfOrder, ap99, p50, p99, mx,
			fmtOpt(s.ServerCPU, "%.2f"), fmtOpt(mb(s.ServerRSS), "%.0f"), s.GeneratorCPU, fmtOpt(s.HostCPU, "%.2f"))
	}
	w.Flush()
}
