package main

import (
	"bufio"
	"bytes"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/joho/godotenv"
)

// TestEnvExample holds .env.example, which operators copy to .env for
// compose.yaml, to the settings: every setting is there once, as a line
// PARLEY_X=value under a comment that says what it means, commented out
// with its default value unless the file sets it on purpose; and nothing
// else named PARLEY_ is.
func TestEnvExample(t *testing.T) {
	data, err := os.ReadFile("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := godotenv.Parse(bytes.NewReader(data)); err != nil {
		t.Fatalf("godotenv cannot read .env.example: %v", err)
	}
	seen := map[string]int{}
	fs := newFlagSet("serve", new(config))
	scanner := bufio.NewScanner(bytes.NewReader(data))
	previous := ""
	for n := 1; scanner.Scan(); n++ {
		line := scanner.Text()
		setting, commented := strings.CutPrefix(line, "# ")
		name, value, ok := strings.Cut(setting, "=")
		if !ok || !strings.HasPrefix(name, envPrefix) || strings.ContainsAny(name, " \t") {
			previous = line
			continue
		}
		f := fs.Lookup(settingName(name))
		if f == nil || envName(f.Name) != name {
			t.Errorf(".env.example:%d: %s is not a setting", n, name)
			continue
		}
		seen[f.Name]++
		if !strings.HasPrefix(previous, "# ") || strings.Contains(previous, "=") {
			t.Errorf(".env.example:%d: %s has no line before it that says what it means", n, name)
		}
		if commented && !isDefault(t, f.Name, value) {
			t.Errorf(".env.example:%d: %s=%s is commented out, but %q is not its default (%s)", n, name, value, value, f.DefValue)
		}
		previous = line
	}
	fs.VisitAll(func(f *flag.Flag) {
		if seen[f.Name] != 1 {
			t.Errorf(".env.example has %d lines for %s, want 1 (with its default and meaning)", seen[f.Name], envName(f.Name))
		}
	})
}

// isDefault reports whether value, given to the setting name, gives it its
// default, or one of its profiles' defaults.
func isDefault(t *testing.T, name, value string) bool {
	t.Helper()
	f := newFlagSet("serve", new(config)).Lookup(name)
	def := f.Value.String()
	if err := f.Value.Set(value); err != nil {
		t.Errorf(".env.example: %s=%s: %v", envName(name), value, err)
		return false
	}
	if d, ok := profileDefaults[name]; ok {
		return slices.Contains([]string{d.development, d.other}, f.Value.String())
	}
	return f.Value.String() == def
}
