package parley_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestDomainDoesNoIO keeps the architecture honest: package parley is the
// domain, and depends on nothing but the standard library, none of its
// database or network packages, and the few pure computations it names
// (pureModules): no drivers, no frameworks.
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
	// pureModules compute without I/O: Unicode's text algorithms, argon2,
	// and UTS #39's confusables table.
	pureModules := []string{"golang.org/x/text/", "golang.org/x/crypto/", "golang.org/x/sys/cpu", "github.com/mtibben/confusables"}
	pure := func(path string) bool {
		return slices.ContainsFunc(pureModules, func(m string) bool { return strings.HasPrefix(path, m) })
	}
	var deps int
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, standard, _ := strings.Cut(line, " ")
		deps++
		switch {
		case path == "github.com/parley-chat/parley":
		case standard != "true" && pure(path):
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

// TestLayering holds the packages to docs/ARCHITECTURE.md: imports point
// inward, toward the domain, and each adapter imports none of its siblings.
func TestLayering(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	const module = "github.com/parley-chat/parley"
	allowed := map[string][]string{
		"":          nil,
		"protocol":  {""},
		"hub":       {"", "protocol"},
		"httpapi":   {"", "hub", "protocol"},
		"sqlite":    {""},
		"postgres":  {""},
		"redis":     nil,
		"storetest": {""},
		"metrics":   nil,
		"web":       nil,
		"loadgen":   nil,

		// Test helpers that two packages share.
		"internal/copytest":  {""},
		"internal/pgtest":    nil,
		"internal/redistest": nil,
	}
	out, err := exec.Command(goTool, "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...").Output()
	if err != nil {
		t.Fatalf("go list ./... = %v", err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], module), "/")
		rule, ok := allowed[pkg]
		if !ok {
			continue // cmd/parley wires everything
		}
		seen[pkg] = true
		for _, imp := range fields[1:] {
			if imp != module && !strings.HasPrefix(imp, module+"/") {
				continue
			}
			dep := strings.TrimPrefix(strings.TrimPrefix(imp, module), "/")
			if !slices.Contains(rule, dep) {
				t.Errorf("package %s imports %s; docs/ARCHITECTURE.md allows it only %q", fields[0], imp, rule)
			}
		}
	}
	for pkg := range allowed {
		if !seen[pkg] {
			t.Errorf("go list ./... did not list package %q", pkg)
		}
	}
}
