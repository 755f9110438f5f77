package main

import (
	"context"
	"strings"
	"testing"
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
