package loadgen

import (
	"bytes"
	"strings"
	"testing"
)

// TestLateArrivalsAreNoLoss reports a step after one whose wait ended with
// entries missing that came after all: the step shows no loss, says how
// many came late, and never a negative count.
func TestLateArrivalsAreNoLoss(t *testing.T) {
	s := Step{Scenario: "fanout", Step: "10 msg/s", Expected: 100, Received: 107, Lost: -7}
	var out bytes.Buffer
	s.write(&out)
	b := &bench{out: &out, report: Report{Steps: []Step{s}}}
	b.summary()
	got := out.String()
	if !strings.Contains(got, "lost 0 (7 counted lost at an earlier step's end came since)") {
		t.Errorf("step report:\n%s\nwant it to say lost 0 and that 7 came late", got)
	}
	if strings.Contains(got, "-7") {
		t.Errorf("step report:\n%s\nwant no negative count", got)
	}
}
