package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/httpapi"
	"github.com/parley-chat/parley/internal/pgtest"
	"github.com/parley-chat/parley/protocol"
)

// TestMain stops the PostgreSQL server that the tests on PostgreSQL start.
func TestMain(m *testing.M) { pgtest.Main(m) }

// inDir makes a fresh directory the working directory for the rest of the
// test and writes files (name → content) into it.
func inDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	return dir
}

// environment returns an environment, as os.Environ would, that holds
// only env.
func environment(env map[string]string) []string {
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	return environ
}

func mustParseConfig(t *testing.T, args []string, env map[string]string) *config {
	t.Helper()
	c, err := parseConfig("serve", args, environment(env))
	if err != nil {
		t.Fatalf("parseConfig(%q) = %v", args, err)
	}
	return c
}

func TestConfigPrecedence(t *testing.T) {
	const (
		dotenv      = "PARLEY_ADDR=:1001\n"
		development = "PARLEY_ADDR=:1002\n"
		production  = "PARLEY_ADDR=:1005\n"
		staging     = "PARLEY_ADDR=:1006\n"
	)
	both := map[string]string{".env": dotenv, ".env.development": development}
	tests := []struct {
		name        string
		args        []string
		env         map[string]string
		files       map[string]string
		wantAddr    string
		wantProfile string
	}{
		{"default", nil, nil, nil, ":8080", "development"},
		{".env over default", nil, nil, map[string]string{".env": dotenv}, ":1001", "development"},
		{".env.<profile> over .env", nil, nil, both, ":1002", "development"},
		{"environment over files", nil, map[string]string{"PARLEY_ADDR": ":1003"}, both, ":1003", "development"},
		{"flag over environment", []string{"-addr", ":1004"}, map[string]string{"PARLEY_ADDR": ":1003"}, both, ":1004", "development"},
		{"empty environment variable counts as unset", nil, map[string]string{"PARLEY_ADDR": ""}, both, ":1002", "development"},
		{"another profile's file is not read", nil, nil, map[string]string{".env.production": production}, ":8080", "development"},
		{"profile from environment picks its file", nil, map[string]string{"PARLEY_PROFILE": "production"},
			map[string]string{".env": dotenv, ".env.production": production}, ":1005", "production"},
		{"profile flag over environment", []string{"-profile", "staging"}, map[string]string{"PARLEY_PROFILE": "production"},
			map[string]string{".env.production": production, ".env.staging": staging}, ":1006", "staging"},
		{"profile in .env is ignored", nil, nil,
			map[string]string{".env": "PARLEY_PROFILE=production\n", ".env.production": production}, ":8080", "development"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inDir(t, tt.files)
			c := mustParseConfig(t, tt.args, tt.env)
			if c.addr != tt.wantAddr || c.profile != tt.wantProfile {
				t.Errorf("parseConfig(%q) with env %v and files %v: addr %q, profile %q; want %q, %q",
					tt.args, tt.env, tt.files, c.addr, c.profile, tt.wantAddr, tt.wantProfile)
			}
		})
	}
}

// TestConfigEverySetting sets each setting through its environment
// variable, and separately through .env, and checks that it arrives.
func TestConfigEverySetting(t *testing.T) {
	settings := map[string]struct {
		value string
		got   func(*config) string
		want  string
	}{
		"profile":            {"Staging", func(c *config) string { return c.profile }, "staging"},
		"addr":               {"127.0.0.1:9000", func(c *config) string { return c.addr }, "127.0.0.1:9000"},
		"database":           {"/var/lib/parley/chat.db", func(c *config) string { return c.database }, "/var/lib/parley/chat.db"},
		"log-format":         {"json", func(c *config) string { return c.logFormat }, "json"},
		"log-level":          {"DEBUG", func(c *config) string { return c.slogLevel().String() }, "DEBUG"},
		"guests":             {"false", func(c *config) string { return fmt.Sprint(c.guests) }, "false"},
		"signup":             {"false", func(c *config) string { return fmt.Sprint(c.signup) }, "false"},
		"grace":              {"1m30s", func(c *config) string { return c.grace.String() }, "1m30s"},
		"session-ttl":        {"168h", func(c *config) string { return c.sessionTTL.String() }, "168h0m0s"},
		"allowed-origins":    {"https://a.example, http://localhost:5173,", func(c *config) string { return strings.Join(c.allowedOrigins, " ") }, "https://a.example http://localhost:5173"},
		"shutdown-timeout":   {"3s", func(c *config) string { return c.shutdownTimeout.String() }, "3s"},
		"metrics":            {"false", func(c *config) string { return fmt.Sprint(c.metrics) }, "false"},
		"metrics-addr":       {"127.0.0.1:9100", func(c *config) string { return c.metricsAddr }, "127.0.0.1:9100"},
		"public-url":         {"https://Chat.Example.com/", func(c *config) string { return c.publicURL }, "https://chat.example.com"},
		"trusted-proxies":    {"10.0.0.0/8, 127.0.0.1,::1,192.168.1.7/24", func(c *config) string { return fmt.Sprint(c.trustedProxies) }, "[10.0.0.0/8 127.0.0.1/32 ::1/128 192.168.1.0/24]"},
		"tls-cert":           {"/etc/parley/cert.pem", func(c *config) string { return c.tlsCert }, "/etc/parley/cert.pem"},
		"tls-key":            {"/etc/parley/key.pem", func(c *config) string { return c.tlsKey }, "/etc/parley/key.pem"},
		"pprof-addr":         {"127.0.0.1:6060", func(c *config) string { return c.pprofAddr }, "127.0.0.1:6060"},
		"redis-url":          {"redis://redis.internal:6379/0", func(c *config) string { return c.redisURL }, "redis://redis.internal:6379/0"},
		"presence-ttl":       {"30s", func(c *config) string { return c.presenceTTL.String() }, "30s"},
		"presence-heartbeat": {"2s", func(c *config) string { return c.presenceBeat.String() }, "2s"},
		"limits":             {"false", func(c *config) string { return fmt.Sprint(c.limits) }, "false"},
		"conns-per-address":  {"250", func(c *config) string { return fmt.Sprint(c.connsPerAddress) }, "250"},
		"connect-rate":       {"10/s", func(c *config) string { return c.connectRate.String() }, "10/1s"},
		"message-rate":       {" 5/2s", func(c *config) string { return c.messageRate.String() }, "5/2s"},
		"room-rate":          {"off", func(c *config) string { return c.roomRate.String() }, "off"},
		"guest-rate":         {"100/24h", func(c *config) string { return c.guestRate.String() }, "100/24h"},
		"max-replay":         {"0", func(c *config) string { return fmt.Sprint(c.maxReplay) }, "0"},
		"replay-budget":      {"5000/30s", func(c *config) string { return c.replayBudget.String() }, "5000/30s"},
	}
	newFlagSet("serve", new(config)).VisitAll(func(f *flag.Flag) {
		if _, ok := settings[f.Name]; !ok {
			t.Errorf("setting -%s is not covered by this test", f.Name)
		}
	})
	// Settings that go in pairs get their partner from the environment.
	partner := map[string]map[string]string{
		"tls-cert": {"PARLEY_TLS_KEY": "/etc/parley/key.pem"},
		"tls-key":  {"PARLEY_TLS_CERT": "/etc/parley/cert.pem"},
	}
	for name, s := range settings {
		env := envName(name)
		t.Run(name, func(t *testing.T) {
			inDir(t, nil)
			c := mustParseConfig(t, nil, withEnv(partner[name], env, s.value))
			if got := s.got(c); got != s.want {
				t.Errorf("parseConfig with %s=%q: %s = %q, want %q", env, s.value, name, got, s.want)
			}
			c = mustParseConfig(t, []string{"-" + name + "=" + s.value}, partner[name])
			if got := s.got(c); got != s.want {
				t.Errorf("parseConfig(-%s=%q): %s = %q, want %q", name, s.value, name, got, s.want)
			}
			if name == "profile" {
				return // never read from files
			}
			inDir(t, map[string]string{".env": env + "=" + s.value + "\n"})
			c = mustParseConfig(t, nil, partner[name])
			if got := s.got(c); got != s.want {
				t.Errorf("parseConfig with %s=%q in .env: %s = %q, want %q", env, s.value, name, got, s.want)
			}
		})
	}
}

// withEnv returns a copy of env with k set to v.
func withEnv(env map[string]string, k, v string) map[string]string {
	m := map[string]string{k: v}
	for k, v := range env {
		m[k] = v
	}
	return m
}

func TestConfigDefaults(t *testing.T) {
	inDir(t, nil)
	c := mustParseConfig(t, nil, nil)
	want := config{
		profile: "development", addr: ":8080", database: "parley.db", logFormat: "text", logLevel: "info",
		guests: true, signup: true, grace: 15 * time.Second, sessionTTL: 30 * 24 * time.Hour, shutdownTimeout: 10 * time.Second, metrics: true,
		presenceTTL: 15 * time.Second, presenceBeat: 5 * time.Second,
		limits: true, connsPerAddress: 100, connectRate: httpapi.Rate{N: 120, Per: time.Minute},
		messageRate: httpapi.Rate{N: 30, Per: 10 * time.Second}, roomRate: httpapi.Rate{N: 20, Per: time.Hour},
		guestRate: httpapi.Rate{N: 30, Per: time.Hour}, maxReplay: 1000, replayBudget: httpapi.Rate{N: 10_000, Per: time.Minute},
	}
	if !reflect.DeepEqual(*c, want) {
		t.Errorf("parseConfig(nil) = %+v, want %+v", *c, want)
	}
}

func TestConfigProfileDefaults(t *testing.T) {
	tests := []struct {
		profile       string
		env           map[string]string
		wantGuests    bool
		wantLogFormat string
	}{
		{"development", nil, true, "text"},
		{"staging", nil, false, "json"},
		{"production", nil, false, "json"},
		{"production", map[string]string{"PARLEY_GUESTS": "true", "PARLEY_LOG_FORMAT": "text"}, true, "text"},
		{"development", map[string]string{"PARLEY_GUESTS": "0", "PARLEY_LOG_FORMAT": "json"}, false, "json"},
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			inDir(t, nil)
			c := mustParseConfig(t, []string{"-profile", tt.profile}, tt.env)
			wantMetricsAddr := ":9090"
			if tt.profile == "development" {
				wantMetricsAddr = ""
			}
			if c.metricsAddr != wantMetricsAddr {
				t.Errorf("parseConfig(-profile %s): metrics addr %q, want %q", tt.profile, c.metricsAddr, wantMetricsAddr)
			}
			if c.guests != tt.wantGuests || c.logFormat != tt.wantLogFormat {
				t.Errorf("parseConfig(-profile %s) with env %v: guests %v, log format %q; want %v, %q",
					tt.profile, tt.env, c.guests, c.logFormat, tt.wantGuests, tt.wantLogFormat)
			}
		})
	}
}

func TestConfigWarnings(t *testing.T) {
	inDir(t, map[string]string{".env": "PARLEY_PROFILE=production\nPARLEY_GARCE=1s\nPARLEY_COLOUR=red\nOTHER=1\n"})
	c := mustParseConfig(t, nil, map[string]string{
		"PARLEY_ADRR":          ":9000",
		"PARLEY_LOGLEVEL":      "debug",
		"PARLEY_METRIC_ADDR":   ":9100",
		"PARLEY_TEST_POSTGRES": "postgres://localhost/test",
		"PARLEY_E2E_BIN":       "/tmp/parley",
		"PARLEY_DEV_SERVER":    "http://localhost:9000",
		"PARLEY_UNSET":         "",
		"HOME":                 "/root",
	})
	got := strings.Join(c.warnings, "\n")
	for _, want := range []string{
		"PARLEY_PROFILE in .env is ignored",
		"PARLEY_GARCE in .env is not a setting; ignored; did you mean PARLEY_GRACE?",
		"PARLEY_COLOUR in .env is not a setting; ignored\n",
		"environment variable PARLEY_ADRR is not a setting; ignored; did you mean PARLEY_ADDR?",
		"environment variable PARLEY_LOGLEVEL is not a setting; ignored; did you mean PARLEY_LOG_LEVEL?",
		"environment variable PARLEY_METRIC_ADDR is not a setting; ignored; did you mean PARLEY_METRICS_ADDR?",
	} {
		if !strings.Contains(got+"\n", want) {
			t.Errorf("parseConfig warnings = %q, want one containing %q", got, want)
		}
	}
	for _, notWant := range []string{"OTHER", "HOME", "PARLEY_TEST_POSTGRES", "PARLEY_E2E_BIN", "PARLEY_DEV_SERVER", "PARLEY_UNSET"} {
		if strings.Contains(got, notWant) {
			t.Errorf("parseConfig warnings = %q, want none about %s", got, notWant)
		}
	}
	if c.addr != ":8080" {
		t.Errorf("parseConfig with PARLEY_ADRR: addr = %q, want the default :8080", c.addr)
	}
}

// TestUnknownVariableLogged: the warning reaches the log at start.
func TestUnknownVariableLogged(t *testing.T) {
	dir := inDir(t, nil)
	var stderr bytes.Buffer
	err := run(t.Context(), []string{"migrate", "-database", filepath.Join(dir, "p.db")}, []string{"PARLEY_ADRR=:9000"}, nil, io.Discard, &stderr)
	if err != nil {
		t.Fatalf("run(migrate) = %v", err)
	}
	if want := "environment variable PARLEY_ADRR is not a setting; ignored; did you mean PARLEY_ADDR?"; !strings.Contains(stderr.String(), want) {
		t.Errorf("run(migrate) with PARLEY_ADRR logged %q, want a warning containing %q", stderr.String(), want)
	}
}

// TestNoSettingIsExcluded keeps the names that are not settings from
// swallowing one that is.
func TestNoSettingIsExcluded(t *testing.T) {
	newFlagSet("serve", new(config)).VisitAll(func(f *flag.Flag) {
		for _, p := range notSettings {
			if strings.HasPrefix(envName(f.Name), p) {
				t.Errorf("setting -%s's variable %s starts with %s, which is never reported as unknown", f.Name, envName(f.Name), p)
			}
		}
	})
}

func TestEditDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"ADDR", "ADDR", 0}, {"ADRR", "ADDR", 1}, {"ADR", "ADDR", 1}, {"DADR", "ADDR", 1},
		{"GARCE", "GRACE", 1}, {"LOGLEVEL", "LOG_LEVEL", 1}, {"", "ADDR", 4}, {"ABC", "XYZ", 3},
	} {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestConfigErrors checks that a bad setting stops start-up with an error
// that names the setting and where its value came from.
func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		files   map[string]string
		want    []string // each must be in the error
		notWant string   // must not be in the error
	}{
		{"unknown flag", []string{"-nope"}, nil, nil, []string{"-nope"}, ""},
		{"unexpected argument", []string{"extra"}, nil, nil, []string{`"extra"`}, ""},
		{"profile flag", []string{"-profile", "prod"}, nil, nil, []string{"-profile", `"prod"`, "development, staging, production"}, ""},
		{"profile environment", nil, map[string]string{"PARLEY_PROFILE": "qa"}, nil, []string{"profile", `"qa"`, "PARLEY_PROFILE"}, ""},
		{"duration flag", []string{"-grace", "soon"}, nil, nil, []string{"-grace", `"soon"`, "duration"}, ""},
		{"duration environment", nil, map[string]string{"PARLEY_SHUTDOWN_TIMEOUT": "10"}, nil,
			[]string{"shutdown-timeout", `"10"`, "environment variable PARLEY_SHUTDOWN_TIMEOUT", "duration"}, ""},
		{"log level in .env.<profile>", []string{"-profile", "staging"}, nil, map[string]string{".env.staging": "PARLEY_LOG_LEVEL=loud\n"},
			[]string{"log-level", `"loud"`, "PARLEY_LOG_LEVEL in .env.staging", "debug, info, warn, error"}, ""},
		{"log format in .env", nil, nil, map[string]string{".env": "PARLEY_LOG_FORMAT=xml\n"},
			[]string{"log-format", `"xml"`, "PARLEY_LOG_FORMAT in .env"}, ""},
		{"bool environment", nil, map[string]string{"PARLEY_GUESTS": "maybe"}, nil, []string{"guests", "PARLEY_GUESTS", "true or false"}, ""},
		{"negative grace", []string{"-grace=-1s"}, nil, nil, []string{"grace", "negative", "flag -grace"}, ""},
		{"zero session ttl", nil, map[string]string{"PARLEY_SESSION_TTL": "0s"}, nil, []string{"session-ttl", "positive", "PARLEY_SESSION_TTL"}, ""},
		{"zero shutdown timeout", nil, nil, map[string]string{".env": "PARLEY_SHUTDOWN_TIMEOUT=0s\n"},
			[]string{"shutdown-timeout", "PARLEY_SHUTDOWN_TIMEOUT in .env"}, ""},
		{"empty database", []string{"-database", ""}, nil, nil, []string{"database", "flag -database"}, ""},
		{"bad postgres URL", nil, map[string]string{"PARLEY_DATABASE": "postgres://parley:hunter2@%zz/parley"}, nil,
			[]string{"database", "not a valid PostgreSQL URL", "PARLEY_DATABASE"}, "hunter2"},
		{"redis url scheme", nil, map[string]string{"PARLEY_REDIS_URL": "http://parley:hunter2@redis:6379"}, nil,
			[]string{"redis-url", "redis://", "PARLEY_REDIS_URL"}, "hunter2"},
		{"redis url unparsable", []string{"-redis-url", "redis://parley:hunter2@[::1:6379"}, nil, nil,
			[]string{"redis-url", "flag -redis-url"}, "hunter2"},
		{"zero presence ttl", []string{"-presence-ttl=0s"}, nil, nil, []string{"presence-ttl", "positive", "flag -presence-ttl"}, ""},
		{"zero presence heartbeat", nil, map[string]string{"PARLEY_PRESENCE_HEARTBEAT": "0s"}, nil,
			[]string{"presence-heartbeat", "positive", "PARLEY_PRESENCE_HEARTBEAT"}, ""},
		{"presence heartbeat too slow", []string{"-presence-ttl=8s", "-presence-heartbeat=5s"}, nil, nil,
			[]string{"presence-heartbeat", "half of presence-ttl (8s)", "flag -presence-heartbeat"}, ""},
		{"bad origin", []string{"-allowed-origins", "https://ok.example,chat.example.com"}, nil, nil,
			[]string{"allowed-origins", `"chat.example.com"`, "flag -allowed-origins"}, ""},
		{"origin with path", nil, map[string]string{"PARLEY_ALLOWED_ORIGINS": "https://chat.example.com/app"}, nil,
			[]string{"allowed-origins", "PARLEY_ALLOWED_ORIGINS"}, ""},
		{"tls cert without key", []string{"-tls-cert", "cert.pem"}, nil, nil,
			[]string{"setting tls-cert", "needs tls-key too", "tls-cert and tls-key go together", "flag -tls-cert"}, ""},
		{"tls key without cert", nil, map[string]string{"PARLEY_TLS_KEY": "key.pem"}, nil,
			[]string{"setting tls-key", "needs tls-cert too", "PARLEY_TLS_KEY"}, ""},
		{"public url without scheme", nil, map[string]string{"PARLEY_PUBLIC_URL": "chat.example.com"}, nil,
			[]string{"public-url", `"chat.example.com"`, "https://chat.example.com", "PARLEY_PUBLIC_URL"}, ""},
		{"public url with path", []string{"-public-url", "https://example.com/chat"}, nil, nil,
			[]string{"public-url", "no path", "flag -public-url"}, ""},
		{"trusted proxy", []string{"-trusted-proxies", "10.0.0.0/8,nginx"}, nil, nil,
			[]string{"trusted-proxies", `"nginx"`, "CIDR"}, ""},
		{"metrics on the main address", []string{"-addr", ":9000", "-metrics-addr", ":9000"}, nil, nil,
			[]string{"metrics-addr", "differ from addr"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inDir(t, tt.files)
			_, err := parseConfig("serve", tt.args, environment(tt.env))
			if err == nil {
				t.Fatalf("parseConfig(%q) with env %v and files %v = nil, want an error", tt.args, tt.env, tt.files)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("parseConfig(%q) = %q, want an error containing %q", tt.args, err, want)
				}
			}
			if tt.notWant != "" && strings.Contains(err.Error(), tt.notWant) {
				t.Errorf("parseConfig(%q) = %q, want an error without %q", tt.args, err, tt.notWant)
			}
			// run stops with the same error, before doing anything else.
			err = run(t.Context(), append([]string{"serve"}, tt.args...), environment(tt.env), nil, io.Discard, io.Discard)
			if err == nil {
				t.Errorf("run(serve %q) = nil, want an error", tt.args)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	inDir(t, nil)
	for _, args := range [][]string{{"serve", "--help"}, {"serve", "-h"}, {"help"}, {"help", "serve"}, {"-help"}, {"migrate", "-help"}} {
		var stdout bytes.Buffer
		if err := run(t.Context(), args, environment(nil), nil, &stdout, io.Discard); err != nil {
			t.Fatalf("run(%q) = %v, want nil", args, err)
		}
		help := stdout.String()
		names := []string{"addr", "database", "profile", "log-format", "log-level", "guests", "grace", "allowed-origins", "shutdown-timeout"}
		newFlagSet("serve", new(config)).VisitAll(func(f *flag.Flag) {
			if !slices.Contains(names, f.Name) {
				names = append(names, f.Name)
			}
		})
		for _, name := range names {
			if !strings.Contains(help, "\n  -"+name) || !strings.Contains(help, envName(name)) {
				t.Errorf("run(%q) printed help without -%s or %s:\n%s", args, name, envName(name), help)
			}
		}
		for _, def := range []string{"default :8080", "default parley.db", "default 15s", "default 10s", "default info", "default development",
			"default true in development, false otherwise", "default text in development, json otherwise"} {
			if !strings.Contains(help, def) {
				t.Errorf("run(%q) printed help without %q:\n%s", args, def, help)
			}
		}
	}
}

func TestCommands(t *testing.T) {
	inDir(t, nil)
	var stdout bytes.Buffer
	if err := run(t.Context(), []string{"version"}, environment(nil), nil, &stdout, io.Discard); err != nil {
		t.Fatalf("run(version) = %v, want nil", err)
	}
	if !strings.HasPrefix(stdout.String(), "parley ") {
		t.Errorf("run(version) printed %q, want parley and a version", stdout.String())
	}
	for _, args := range [][]string{{"serverr"}, {"-nope"}, {"version", "now"}, {"help", "nope"}} {
		if err := run(t.Context(), args, environment(nil), nil, io.Discard, io.Discard); err == nil {
			t.Errorf("run(%q) = nil, want an error", args)
		}
	}
}

func TestMigrate(t *testing.T) {
	dir := inDir(t, nil)
	db := filepath.Join(dir, "migrated.db")
	if err := run(t.Context(), []string{"migrate", "-database", db}, environment(nil), nil, io.Discard, io.Discard); err != nil {
		t.Fatalf("run(migrate -database %s) = %v, want nil", db, err)
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("after run(migrate -database %s): %v", db, err)
	}
}

// logWatcher is the stderr of a server under test: it keeps the JSON log
// lines and reports the address of the "listening" line.
type logWatcher struct {
	mu        sync.Mutex
	buf       bytes.Buffer // guarded by mu
	partial   []byte       // guarded by mu
	listening chan string  // gets the bound address, once
	// line is the "listening" line; set before the address is sent on
	// listening.
	line listeningLine
}

// listeningLine is what the "listening" log line says.
type listeningLine struct {
	Msg       string `json:"msg"`
	Addr      string `json:"addr"`
	Scheme    string `json:"scheme"`
	PublicURL string `json:"public_url"`
	Metrics   string `json:"metrics"`
}

// listeningLine returns the "listening" line, once it has been logged.
func (w *logWatcher) listeningLine() listeningLine {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.line
}

func newLogWatcher() *logWatcher { return &logWatcher{listening: make(chan string, 1)} }

func (w *logWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := w.partial[:i]
		w.partial = w.partial[i+1:]
		var rec listeningLine
		if json.Unmarshal(line, &rec) == nil && rec.Msg == "listening" {
			w.line = rec
			select {
			case w.listening <- rec.Addr:
			default:
			}
		}
	}
}

func (w *logWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// server is one call of run, serving on a free port.
type server struct {
	addr   string // host:port
	scheme string // http or https, as the "listening" line says
	client *http.Client
	cancel context.CancelFunc
	done   chan error // gets run's result
	logs   *logWatcher
}

// startServer calls run as main does, with a database file, a free port and
// the extra arguments, and returns once the server listens. The server is stopped at cleanup at
// the latest.
func startServer(t *testing.T, database string, extra ...string) *server {
	t.Helper()
	return startServerClient(t, database, http.DefaultClient, extra...)
}

// startServerClient is startServer with the client that checks, at start,
// that the server answers.
func startServerClient(t *testing.T, database string, client *http.Client, extra ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{cancel: cancel, done: make(chan error, 1), logs: newLogWatcher(), client: client}
	args := []string{"serve", "-addr", "127.0.0.1:0", "-database", database, "-log-format", "json", "-log-level", "debug"}
	args = append(args, extra...)
	go func() { s.done <- run(ctx, args, environment(nil), nil, io.Discard, s.logs) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(15 * time.Second):
			t.Errorf("run did not return within 15s of cancelling its context")
		}
		if t.Failed() {
			t.Logf("server log:\n%s", s.logs)
		}
	})
	select {
	case s.addr = <-s.logs.listening:
	case err := <-s.done:
		t.Fatalf("run(%q) = %v before listening", args, err)
	case <-time.After(30 * time.Second):
		t.Fatalf("run(%q) did not log \"listening\" within 30s", args)
	}
	s.scheme = s.logs.listeningLine().Scheme
	s.waitHealthy(t)
	return s
}

// waitHealthy polls /api/health until it answers {"status":"ok"}.
func (s *server) waitHealthy(t *testing.T) {
	t.Helper()
	url := s.scheme + "://" + s.addr + "/api/health"
	var last string
	for range 100 {
		res, err := s.client.Get(url)
		if err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			var health struct{ Status string }
			if res.StatusCode == http.StatusOK && json.Unmarshal(body, &health) == nil && health.Status == "ok" {
				return
			}
			last = fmt.Sprintf("%s: %s", res.Status, body)
		} else {
			last = err.Error()
		}
		time.Sleep(50 * time.Millisecond) // between polls; the loop is bounded
	}
	t.Fatalf("GET %s never answered 200 {\"status\":\"ok\"}; last: %s", url, last)
}

// stop cancels run's context and checks that run returns nil.
func (s *server) stop(t *testing.T) {
	t.Helper()
	s.cancel()
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("run returned %v after its context was cancelled, want nil", err)
		}
		s.done <- err // for the cleanup
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return within 15s of cancelling its context")
	}
}

// event is one event the server sent over the WebSocket.
type event = protocol.Event

// readUntil reads events from conn until one satisfies done, and returns it.
// An error event fails the test.
func readUntil(t *testing.T, conn *websocket.Conn, what string, done func(event) bool) event {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for %s: read: %v", what, err)
		}
		events, err := protocol.DecodeEvents(msg)
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		for _, e := range events {
			if e.Type == "error" {
				t.Fatalf("waiting for %s: got error %s: %s", what, e.Code, e.Message)
			}
			if done(e) {
				return e
			}
		}
	}
}

func send(t *testing.T, conn *websocket.Conn, frame string) {
	t.Helper()
	if err := conn.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		t.Fatalf("send %s: %v", frame, err)
	}
}

// TestServe runs the server as main does, stores a message over the
// WebSocket protocol, shuts down, and finds the message again after a
// restart on the same database.
func TestServe(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole server twice")
	}
	dir := inDir(t, nil)
	serveAndRestart(t, filepath.Join(dir, "parley.db"))
}

// TestServePostgres is TestServe on PostgreSQL, with a password in the URL,
// which the server must never log.
func TestServePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole server twice")
	}
	inDir(t, nil)
	u, err := url.Parse(pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	// The test server trusts its socket's clients, and ignores passwords.
	u.User = url.UserPassword(u.User.Username(), "hunter2")
	for _, s := range serveAndRestart(t, u.String()) {
		logs := s.logs.String()
		if strings.Contains(logs, "hunter2") {
			t.Errorf("the server logged the database's password:\n%s", logs)
		}
		if !strings.Contains(logs, `:xxxxx@`) {
			t.Errorf("the server did not log the database's URL with its password hidden:\n%s", logs)
		}
	}
	if err := run(t.Context(), []string{"migrate", "-database", u.String()}, environment(nil), nil, io.Discard, io.Discard); err != nil {
		t.Errorf("run(migrate -database %s) = %v, want nil", u.Redacted(), err)
	}
}

// TestPostgresUnreachable checks that a server that cannot reach its
// database stops with an error that does not show the password.
func TestPostgresUnreachable(t *testing.T) {
	inDir(t, nil)
	var stderr bytes.Buffer
	database := "postgres://parley:hunter2@127.0.0.1:1/parley?connect_timeout=5"
	for _, command := range []string{"serve", "migrate"} {
		err := run(t.Context(), []string{command, "-addr", "127.0.0.1:0", "-database", database}, environment(nil), nil, io.Discard, &stderr)
		if err == nil {
			t.Fatalf("run(%s -database %s) = nil, want an error", command, database)
		}
		if strings.Contains(err.Error(), "hunter2") || strings.Contains(stderr.String(), "hunter2") {
			t.Errorf("run(%s) = %q, logging %q; want neither to show the password", command, err, stderr.String())
		}
	}
}

func TestRedactDatabase(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"parley.db", "parley.db"},
		{"/var/lib/parley/postgres:x.db", "/var/lib/parley/postgres:x.db"},
		{"postgres://parley:hunter2@db:5432/parley?sslmode=require", "postgres://parley:xxxxx@db:5432/parley?sslmode=require"},
		{"postgresql://parley@db/parley", "postgresql://parley@db/parley"},
		{"postgres://db/parley?user=parley&password=hunter2", "postgres://db/parley?password=xxxxx&user=parley"},
		{"postgres://parley:hunter2@%zz/parley", "(a PostgreSQL URL that does not parse)"},
	} {
		if got := redactDatabase(tt.in); got != tt.want {
			t.Errorf("redactDatabase(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// serveAndRestart runs the server as main does, stores a message over the
// WebSocket protocol, shuts down, and finds the message again after a
// restart on the same database. It returns both servers, stopped.
func serveAndRestart(t *testing.T, database string) []*server {
	t.Helper()
	s := startServer(t, database)
	conn, _, err := websocket.DefaultDialer.DialContext(t.Context(), "ws://"+s.addr+"/ws", nil)
	if err != nil {
		t.Fatalf("dial ws://%s/ws: %v", s.addr, err)
	}
	defer conn.Close()
	send(t, conn, `{"type":"hello","v":1,"nick":"ana"}`)
	readUntil(t, conn, "welcome", func(e event) bool { return e.Type == "welcome" })
	send(t, conn, `{"type":"join","room":"general","since":0}`)
	readUntil(t, conn, "joined", func(e event) bool { return e.Type == "joined" })
	const text = "Hello from before the restart"
	send(t, conn, `{"type":"send","room":"general","clientId":"e2e-1","text":"`+text+`"}`)
	ack := readUntil(t, conn, "ack", func(e event) bool { return e.Type == "ack" && e.ClientID == "e2e-1" })
	if ack.Seq < 1 {
		t.Fatalf("ack = %+v, want a sequence number", ack)
	}
	checkMetrics(t, "http://"+s.addr+"/metrics")

	// Shutdown tells connected clients to reconnect elsewhere. Reading the
	// close frame also answers it, as a client would, so the server need not
	// wait for the answer.
	s.cancel()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := conn.ReadMessage()
		if err == nil {
			continue
		}
		if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
			t.Errorf("read after shutdown: %v, want close code 1001 (going away)", err)
		}
		break
	}
	s.stop(t)

	first := s
	s = startServer(t, database)
	url := "http://" + s.addr + "/api/rooms/general/messages"
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	var page struct {
		Room    string  `json:"room"`
		Entries []event `json:"entries"`
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, want 200", url, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(&page); err != nil {
		t.Fatalf("GET %s: decode: %v", url, err)
	}
	found := false
	for _, e := range page.Entries {
		if e.Type == "message" && e.Seq == ack.Seq {
			found = true
			if e.Text != text || e.ClientID != "e2e-1" || e.From != "ana" {
				t.Errorf("GET %s: entry %d = %+v, want ana's message %q with client id e2e-1", url, ack.Seq, e, text)
			}
		}
	}
	if page.Room != "general" || !found {
		t.Errorf("GET %s = %+v, want room general with the message acknowledged as seq %d", url, page, ack.Seq)
	}
	s.stop(t)
	return []*server{first, s}
}

// checkMetrics scrapes url after one connection has sent one message and
// checks that the server's own metrics are there and counting.
func checkMetrics(t *testing.T, url string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, want 200", url, res.Status)
	}
	for _, want := range []string{
		"parley_connections 1",
		"parley_rooms_active 1",
		"parley_frames_in_total 3",
		"parley_send_ack_seconds_count 1",
		"parley_store_commit_seconds_count",
		"process_resident_memory_bytes",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("GET %s lacks %q", url, want)
		}
	}
}

// TestSIGTERM builds the real binary, starts it, sends SIGTERM and checks
// that it drains and exits 0.
func TestSIGTERM(t *testing.T) {
	bin := buildParley(t)
	dir := filepath.Dir(bin)

	cmd := exec.Command(bin, "serve", "-addr", "127.0.0.1:0", "-database", filepath.Join(dir, "parley.db"), "-log-format", "json")
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envPrefix) {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}

	// Read the log as it comes, so the process never blocks on a full pipe,
	// and call Wait only once the pipe has been read to its end.
	logs := newLogWatcher()
	exited := make(chan struct{})
	var waitErr error // written before exited is closed
	go func() {
		io.Copy(logs, stderr)
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
		}
	})

	select {
	case <-logs.listening:
	case <-exited:
		t.Fatalf("parley exited before listening: %v\n%s", waitErr, logs)
	case <-time.After(30 * time.Second):
		t.Fatalf("parley did not log \"listening\" within 30s:\n%s", logs)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("send SIGTERM: %v", err)
	}
	select {
	case <-exited:
		if waitErr != nil {
			t.Fatalf("parley exited with %v after SIGTERM, want exit status 0\n%s", waitErr, logs)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("parley did not exit within 10s of SIGTERM\n%s", logs)
	}
	if log := logs.String(); !strings.Contains(log, `"msg":"stopped"`) {
		t.Errorf("parley's log after SIGTERM has no \"stopped\" line:\n%s", log)
	}
}

// buildParley builds the real binary into a temporary directory and
// returns its path; it skips the test with -short.
func buildParley(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build parley: %v", err)
	}
	src, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "parley")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -o %s: %v\n%s", bin, err, out)
	}
	return bin
}

// TestDrainTimeout: when a WebSocket has not ended within the shutdown
// timeout (its client reads nothing, so it never answers the close), run
// returns an error, which main turns into exit status 1, as the README says.
func TestDrainTimeout(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := newLogWatcher()
	done := make(chan error, 1)
	args := []string{"serve", "-addr", "127.0.0.1:0", "-database", filepath.Join(t.TempDir(), "parley.db"),
		"-log-format", "json", "-shutdown-timeout", "200ms"}
	go func() { done <- run(ctx, args, environment(nil), nil, io.Discard, logs) }()
	var addr string
	select {
	case addr = <-logs.listening:
	case err := <-done:
		t.Fatalf("run(%q) = %v before listening", args, err)
	}
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	send(t, conn, `{"type":"hello","v":1,"nick":"ana"}`)
	readUntil(t, conn, "welcome", func(e event) bool { return e.Type == "welcome" })

	cancel() // as SIGTERM does; the client now reads nothing
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "websocket") {
			t.Errorf("run() after a drain that timed out = %v, want an error about the websocket connections", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return within 15s of cancelling its context")
	}
}
