package protocol_test

import (
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/parley-chat/parley/protocol"
)

// TestProtocolDocument holds docs/PROTOCOL.md's tables to this package: a
// frame, event, error code or close code added to one and not the other
// fails, as openapi_test.go does for the REST API.
func TestProtocolDocument(t *testing.T) {
	doc, err := os.ReadFile("../docs/PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		section string // the heading above the table
		want    []string
	}{
		{"## Frames the client sends", protocol.FrameTypes},
		{"### Log entries", protocol.EntryTypes},
		{"### Other events", protocol.EventTypes},
		{"## Errors", protocol.ErrorCodes},
		{"## Close codes", closeCodes()},
	}
	for _, tt := range tests {
		got := firstColumn(t, string(doc), tt.section)
		if extra, missing := diff(got, tt.want); len(extra)+len(missing) > 0 {
			t.Errorf("PROTOCOL.md %q lists %q; package protocol lacks %q and has %q that the document does not list",
				tt.section, got, extra, missing)
		}
	}
}

func closeCodes() []string {
	var codes []string
	for _, c := range protocol.CloseCodes {
		codes = append(codes, strconv.Itoa(c))
	}
	return codes
}

// cell matches the first cell of a table row: `code` or a number.
var cell = regexp.MustCompile("^\\| `?([a-z_0-9]+)`? \\|")

// firstColumn returns the first cells of the first table under heading.
func firstColumn(t *testing.T, doc, heading string) []string {
	t.Helper()
	_, after, ok := strings.Cut(doc, "\n"+heading+"\n")
	if !ok {
		t.Fatalf("PROTOCOL.md has no heading %q", heading)
	}
	var cells []string
	inTable := false
	for line := range strings.Lines(after) {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "|"):
			inTable = true
			if m := cell.FindStringSubmatch(line); m != nil && !strings.HasPrefix(line, "| ---") {
				cells = append(cells, m[1])
			}
		case inTable, strings.HasPrefix(line, "#"):
			return cells[1:] // without the header row
		}
	}
	if len(cells) == 0 {
		t.Fatalf("PROTOCOL.md has no table under %q", heading)
	}
	return cells[1:]
}

// diff returns what is in got and not in want, and what is in want and
// not in got.
func diff(got, want []string) (extra, missing []string) {
	for _, g := range got {
		if !slices.Contains(want, g) {
			extra = append(extra, g)
		}
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	return extra, missing
}
