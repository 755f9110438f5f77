package hub

import (
	"io"
	"log/slog"
	"testing"
	"time"
)

// TestAfterClose: what waits for the hub to close runs once it does,
// unless it was stopped; registered after, it runs at once.
func TestAfterClose(t *testing.T) {
	h := New(nil, NewLocal(), slog.New(slog.NewTextHandler(io.Discard, nil)), Options{})
	ran := make(chan string, 3)
	h.AfterClose(func() { ran <- "first" })
	stop := h.AfterClose(func() { ran <- "stopped" })
	if !stop() {
		t.Error("stop() before Close = false, want true")
	}
	if stop() {
		t.Error("stop() twice = true, want false")
	}
	h.Close()
	late := h.AfterClose(func() { ran <- "late" })
	got := map[string]bool{}
	for range 2 {
		select {
		case name := <-ran:
			got[name] = true
		case <-time.After(5 * time.Second):
			t.Fatalf("after Close, ran %v; want first and late", got)
		}
	}
	if !got["first"] || !got["late"] {
		t.Errorf("after Close, ran %v; want first and late", got)
	}
	if late() {
		t.Error("stop() of a function registered after Close = true, want false")
	}
	select {
	case name := <-ran:
		t.Errorf("%s ran too", name)
	default:
	}
}
