package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley/internal/pgtest"
	"github.com/parley-chat/parley/loadgen"
)

func TestBenchUsage(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantOut string // in stdout
		wantErr string // in the error; "" for none
	}{
		{"help", []string{"-help"}, "Scenarios:", ""},
		{"help after scenario", []string{"fanout", "--help"}, "--members N", ""},
		{"no scenario", nil, "Usage: parley bench", "name a scenario"},
		{"unknown scenario", []string{"nope", "--spawn"}, "", `unknown scenario "nope"`},
		{"no target", []string{"idle"}, "", "either --url or --spawn"},
		{"both targets", []string{"idle", "--spawn", "--url", "ws://x/ws"}, "", "either --url or --spawn"},
		{"bad rate", []string{"fanout", "--spawn", "--rate", "1,x"}, "", "not a list of numbers"},
		{"rate over the per-connection limit", []string{"rooms", "--spawn", "--conns", "10", "--rate", "1000"}, "", "over the 15 a connection may send"},
		{"scenario after flags", []string{"--spawn", "--rate", "100000", "fanout", "--members", "10"}, "", "needs 6667 members taking turns"},
		{"stray argument", []string{"idle", "--spawn", "extra"}, "", `unexpected argument "extra"`},
		{"restart without spawn", []string{"fanout", "--url", "ws://x/ws", "--restart-after", "1s"}, "", "only a server it started"},
		{"restart after the step", []string{"fanout", "--spawn", "--duration", "5s", "--restart-after", "5s"}, "", "shorter than --duration"},
		{"unknown arrival", []string{"rooms", "--spawn", "--arrival", "uniform"}, "", "even or poisson"},
		{"burst and poisson", []string{"rooms", "--spawn", "--arrival", "poisson", "--burst", "4"}, "", "give one of them"},
		{"negative burst", []string{"rooms", "--spawn", "--burst", "-1"}, "", "must be positive"},
		{"database without spawn", []string{"rooms", "--url", "ws://x/ws", "--database", "postgres://db/parley"}, "", "--database takes --spawn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			err := bench(context.Background(), tt.args, &stdout, &stderr)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("bench(%q) = %v, want nil", tt.args, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("bench(%q) = %v, want an error containing %q", tt.args, err, tt.wantErr)
			}
			if !strings.Contains(stdout.String(), tt.wantOut) {
				t.Errorf("bench(%q) wrote %q, want it to contain %q", tt.args, stdout.String(), tt.wantOut)
			}
		})
	}
}

// TestBenchRestart runs the real binary's bench against a server it
// restarts in the middle of a step: every member is closed with 1001,
// reconnects and resumes, and no entry is lost, repeated or reordered.
func TestBenchRestart(t *testing.T) {
	bin := buildParley(t)
	cmd := exec.Command(bin, "bench", "fanout", "--spawn", "--members", "20", "--rate", "20",
		"--duration", "2s", "--restart-after", "700ms", "--json")
	cmd.Dir = filepath.Dir(bin)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("parley bench: %v\n%s%s", err, out, stderr.String())
	}
	var step loadgen.Step
	for line := range strings.Lines(string(out)) {
		if err := json.Unmarshal([]byte(line), &step); err != nil {
			t.Fatalf("parley bench --json wrote %q: %v", line, err)
		}
	}
	if step.Step != "20 msg/s" || step.ServerRestarts != 1 {
		t.Fatalf("last step %q with %d server restarts, want 20 msg/s with 1\n%s", step.Step, step.ServerRestarts, out)
	}
	if step.Closes["1001"] != 20 || step.Reconnects < 20 {
		t.Errorf("closes %v and %d reconnects, want 20 closed with 1001, each reconnected", step.Closes, step.Reconnects)
	}
	if step.Acked == 0 || step.Received != step.Expected || step.Lost+step.Duplicated+step.OutOfOrder != 0 || step.Incomplete != 0 {
		t.Errorf("acked %d, received %d of %d, lost %d, duplicated %d, out of order %d, members incomplete %d; want everything once",
			step.Acked, step.Received, step.Expected, step.Lost, step.Duplicated, step.OutOfOrder, step.Incomplete)
	}
	if step.BackSeconds == nil || step.ResumedSeconds == nil || *step.ResumedSeconds < *step.BackSeconds || step.NotResumed != 0 {
		t.Errorf("back %v s, caught up %v s after the restart, %d never: want both, in that order, and every member",
			fmtPtr(step.BackSeconds), fmtPtr(step.ResumedSeconds), step.NotResumed)
	}
}

func fmtPtr(v *float64) string {
	if v == nil {
		return "nil"
	}
	return strconv.FormatFloat(*v, 'f', 3, 64)
}

// TestBenchPostgres runs the real binary's bench against a server it
// spawns on PostgreSQL (--database), twice on one database, as runs that
// share a database server do: the second finds the first's rooms and
// sessions, and is not disturbed by them.
func TestBenchPostgres(t *testing.T) {
	bin := buildParley(t)
	database := pgtest.NewDatabase(t)
	for run := range 2 {
		cmd := exec.Command(bin, "bench", "rooms", "--spawn", "--database", database,
			"--conns", "10", "--room-size", "5", "--rate", "20", "--duration", "1s", "--json")
		cmd.Dir = filepath.Dir(bin)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("run %d: parley bench --database: %v\n%s%s", run, err, out, stderr.String())
		}
		var step loadgen.Step
		for line := range strings.Lines(string(out)) {
			if err := json.Unmarshal([]byte(line), &step); err != nil {
				t.Fatalf("parley bench --json wrote %q: %v", line, err)
			}
		}
		if step.Acked == 0 || step.Received != step.Expected || step.Lost+step.Duplicated+step.OutOfOrder != 0 {
			t.Errorf("run %d: acked %d, received %d of %d, lost %d, duplicated %d, out of order %d; want everything once",
				run, step.Acked, step.Received, step.Expected, step.Lost, step.Duplicated, step.OutOfOrder)
		}
	}
	conn, err := pgx.Connect(t.Context(), database)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var rooms int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM rooms WHERE name LIKE 'bench-%'`).Scan(&rooms); err != nil || rooms != 4 {
		t.Errorf("rooms of the two runs in the database = %d, %v; want 4: the runs were on PostgreSQL", rooms, err)
	}
}
