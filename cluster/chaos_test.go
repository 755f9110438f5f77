package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley/internal/pgtest"
	"github.com/parley-chat/parley/internal/redistest"
	"github.com/parley-chat/parley/loadgen"
)

// TestReplicasSurviveFailures runs Parley as in production: three replicas
// on one PostgreSQL, Redis between them, nginx in front. People chat in
// rooms of ten through nginx, spread over the replicas, while one replica
// is killed (SIGKILL), Redis is restarted, and PostgreSQL is restarted as
// after a crash. The generator speaks the protocol as clients do: it
// reconnects, resumes each room from the last entry it has, and sends
// again what was not acknowledged, or what the server failed, with the
// same client ids. Once everyone is back, the live replicas agree on who is
// online in every room. Afterwards nothing acknowledged is lost, repeated
// or out of order for any member, and each room's log in the store is
// gapless with every client id once.
func TestReplicasSurviveFailures(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a cluster for about a minute")
	}
	pg := startPostgres(t)
	ctx := t.Context()
	database, err := pg.CreateDatabase(ctx, "cluster")
	if err != nil {
		t.Fatal(err)
	}
	rd := redistest.Start(t)
	var replicas []*replica
	var addrs []string
	for range 3 {
		// The load generator's clients all come from one address, as many
		// people's would not: the limits against abuse are off, as parley
		// bench turns them off for a server it starts.
		r := startReplica(t, "-database", database, "-redis-url", rd.URL(), "-grace", "2s", "-limits=false")
		replicas = append(replicas, r)
		addrs = append(addrs, r.addr)
	}
	n := startNginx(t, addrs)

	cfg := loadgen.Config{
		Scenario: "rooms", URL: "ws://" + n.addr + "/ws",
		Conns: 60, RoomSize: 10, Rates: []float64{60},
		Duration: 24 * time.Second, Settle: 20 * time.Second, Concurrency: 20,
		ServerCommand: []string{"unused"}, WorkerCommand: func() *exec.Cmd { return nil },
	}
	type result struct {
		report *loadgen.Report
		err    error
	}
	done := make(chan result, 1)
	var out bytes.Buffer
	go func() {
		r, err := loadgen.Run(ctx, cfg, &out, io.Discard)
		done <- result{r, err}
	}()

	// The failures, while the people chat. Not synchronisation: the test
	// is of what happens when parts fail at these moments of the load.
	timeline := []struct {
		at   time.Duration
		what string
		do   func() error
	}{
		{8 * time.Second, "kill -9 a replica", func() error { replicas[0].kill(); return nil }},
		{13 * time.Second, "restart Redis", func() error { rd.Restart(); return nil }},
		{18 * time.Second, "restart PostgreSQL", pg.Restart},
		// Every member is back by now: the live replicas must agree that
		// each room has its ten people online, wherever they are
		// connected (the dead replica's entries expire meanwhile).
		{21 * time.Second, "compare presence on the live replicas", func() error {
			return presenceAgrees(replicas[1:], cfg.RoomSize, 15*time.Second)
		}},
	}
	start := time.Now()
	for _, step := range timeline {
		select {
		case r := <-done:
			t.Fatalf("the load ended before %q: %v\n%s", step.what, r.err, out.String())
		case <-time.After(time.Until(start.Add(step.at))):
		}
		t.Logf("%v: %s", time.Since(start).Round(time.Millisecond), step.what)
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.what, err)
		}
	}
	var r result
	select {
	case r = <-done:
	case <-time.After(3 * time.Minute):
		t.Fatalf("the load did not end within 3 minutes:\n%s", out.String())
	}
	t.Logf("the generator's report:\n%s", out.String())
	if r.report == nil {
		t.Fatalf("loadgen.Run() = %v", r.err)
	}
	if errors.Is(r.err, loadgen.ErrIncorrect) || r.err != nil {
		t.Errorf("loadgen.Run() = %v", r.err)
	}
	var sent, acked, unacked, sendErrors, lost, dup, ooo, reconnects int64
	incomplete := 0
	for _, s := range r.report.Steps {
		sent += s.Sent
		acked += s.Acked
		unacked += s.Unacked
		sendErrors += s.SendErrors
		lost += s.Lost
		dup += s.Duplicated
		ooo += s.OutOfOrder
		incomplete += s.Incomplete
		reconnects += s.Reconnects
	}
	if lost+dup+ooo != 0 || incomplete != 0 {
		t.Errorf("members saw %d entries lost, %d duplicated, %d out of order; %d members incomplete; want none", lost, dup, ooo, incomplete)
	}
	if acked < sent/2 || unacked != 0 || sendErrors != 0 {
		t.Errorf("sent %d, acked %d, unacked %d, refused %d; want every send acknowledged in the end", sent, acked, unacked, sendErrors)
	}
	if reconnects == 0 {
		t.Errorf("no client reconnected: the replica's death reached no one")
	}
	checkLogs(t, database)
}

// presenceAgrees waits, up to wait, until every replica's GET /api/rooms
// says that every room of the generator has want people online.
func presenceAgrees(replicas []*replica, want int, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	var last []string
	for {
		last = last[:0]
		ok := true
		for _, r := range replicas {
			online, err := onlineByRoom(r.addr)
			if err != nil {
				return err
			}
			rooms := 0
			for name, n := range online {
				if name == "general" {
					continue
				}
				rooms++
				if n != want {
					ok = false
				}
			}
			ok = ok && rooms > 0
			last = append(last, fmt.Sprintf("%s: %v", r.addr, online))
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the replicas did not agree on %d online in every room within %v:\n%s", want, wait, strings.Join(last, "\n"))
		}
		time.Sleep(200 * time.Millisecond) // between polls; bounded by the deadline
	}
}

// onlineByRoom returns how many people a replica says are online in each
// room.
func onlineByRoom(addr string) (map[string]int, error) {
	res, err := http.Get("http://" + addr + "/api/rooms")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var body struct {
		Rooms []struct {
			Name   string `json:"name"`
			Online int    `json:"online"`
		} `json:"rooms"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("GET /api/rooms of %s: %w", addr, err)
	}
	online := make(map[string]int)
	for _, r := range body.Rooms {
		online[r.Name] = r.Online
	}
	return online, nil
}

// checkLogs reads every room's log from the store: sequence numbers 1..N
// without a gap, and no message stored twice.
func checkLogs(t *testing.T, database string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, database)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `
		SELECT r.name, r.last_seq, count(e.seq), coalesce(min(e.seq), 0), coalesce(max(e.seq), 0)
		FROM rooms r LEFT JOIN entries e ON e.room_id = r.id
		GROUP BY r.name, r.last_seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	rooms := 0
	for rows.Next() {
		var name string
		var last, count, lo, hi int64
		if err := rows.Scan(&name, &last, &count, &lo, &hi); err != nil {
			t.Fatal(err)
		}
		rooms++
		if count != last || count > 0 && (lo != 1 || hi != last) {
			t.Errorf("room %q: %d entries numbered %d to %d, last_seq %d; want 1 to last_seq, no gap", name, count, lo, hi, last)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if rooms < 2 {
		t.Errorf("the store holds %d rooms, want the generator's", rooms)
	}
	var twice int
	err = conn.QueryRow(ctx, `
		SELECT count(*) FROM (
			SELECT 1 FROM entries WHERE kind = 'message'
			GROUP BY room_id, sender, client_id HAVING count(*) > 1) d`).Scan(&twice)
	if err != nil || twice != 0 {
		t.Errorf("%d messages are stored twice (%v), want none", twice, err)
	}
}

// startPostgres starts a throw-away PostgreSQL server of the test's own,
// which the test may restart.
func startPostgres(t *testing.T) *pgtest.Server {
	t.Helper()
	s, err := pgtest.Start()
	if errors.Is(err, pgtest.ErrNotInstalled) {
		need(t, fmt.Sprintf("PostgreSQL (%v)", err))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	return s
}
