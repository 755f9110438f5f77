package hub

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestAckedIsObservedBeforeTheAck: Options.Acked hears of every
// acknowledged send before its ack can reach the client, so a client that
// holds its ack finds it counted in the metrics.
func TestAckedIsObservedBeforeTheAck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var observed []time.Duration
		f := newFixture(t, Options{Grace: serverGrace, Acked: func(d time.Duration) {
			mu.Lock()
			observed = append(observed, d)
			mu.Unlock()
		}})
		ana, pa := f.connect(t, "ana")
		mustJoin(t, ana, "general", nil)
		for i, id := range []string{"a-1", "a-2"} {
			sent := mustSend(t, ana, "general", id, "hello")
			pa.next(t, "the ack", func(e event) bool { return e.Type == "ack" && e.Seq == sent.Seq })
			mu.Lock()
			n := len(observed)
			mu.Unlock()
			if n != i+1 {
				t.Fatalf("Acked called %d times once %d acks arrived, want %d", n, i+1, i+1)
			}
		}
		if _, err := ana.Send(context.Background(), "general", "", "refused"); err == nil {
			t.Fatal("Send() without a client id succeeded")
		}
		mu.Lock()
		defer mu.Unlock()
		if len(observed) != 2 {
			t.Errorf("Acked called %d times after a refused send, want 2", len(observed))
		}
		for _, d := range observed {
			if d < 0 {
				t.Errorf("Acked(%v), want a duration of 0 or more", d)
			}
		}
	})
}
