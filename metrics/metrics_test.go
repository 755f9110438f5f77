package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /metrics = %d", rec.Code)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestMetricsAreExposed(t *testing.T) {
	m := New()
	clients := 3.0
	m.Gauge("connections", "Open connections.", func() float64 { return clients })
	m.Counter("deliveries_total", "Deliveries.", func() float64 { return 42 })
	m.FrameIn()
	m.FrameIn()
	m.MessageOut(5)
	m.Rejected("rate_limited")
	m.Acked(3 * time.Millisecond)
	m.Committed(7, 2*time.Millisecond)

	out := scrape(t, m)
	for _, want := range []string{
		"parley_connections 3",
		"parley_deliveries_total 42",
		"parley_frames_in_total 2",
		"parley_messages_out_total 1",
		"parley_events_out_total 5",
		`parley_frames_rejected_total{code="rate_limited"} 1`,
		"parley_send_ack_seconds_count 1",
		"parley_store_commit_batch_size_sum 7",
		"parley_store_commit_seconds_count 1",
		"process_resident_memory_bytes",
		"process_cpu_seconds_total",
		"go_goroutines",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("GET /metrics lacks %q", want)
		}
	}
	clients = 1
	if out := scrape(t, m); !strings.Contains(out, "parley_connections 1") {
		t.Error("a gauge did not follow its function")
	}
}
