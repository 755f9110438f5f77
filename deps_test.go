package parley_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDomainDoesNoIO keeps the architecture honest: package parley is the
// domain, and depends on nothing but the standard library, and on none of
// its database or network packages.
func TestDomainDoesNoIO(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps . = %v", err)
	}
	forbidden := []string{"database/sql", "net", "net/http", "os/exec"}
	var deps int
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, standard, _ := strings.Cut(line, " ")
		deps++
		switch {
		case path == "github.com/parley-chat/parley":
		case standard != "true":
			t.Errorf("package parley depends on %s, which is not in the standard library (no drivers, no frameworks)", path)
		default:
			for _, f := range forbidden {
				if path == f || strings.HasPrefix(path, f+"/") {
					t.Errorf("package parley depends on %s; it must do no I/O", path)
				}
			}
		}
	}
	if deps < 2 {
		t.Errorf("go list -deps . listed %d packages: %q; want parley and its standard dependencies", deps, out)
	}
}
