package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/joho/godotenv"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/redis"
)

// config holds every setting of serve and migrate, resolved.
type config struct {
	profile         string
	addr            string
	database        string
	logFormat       string
	logLevel        string
	guests          bool
	grace           time.Duration
	sessionTTL      time.Duration
	allowedOrigins  []string
	shutdownTimeout time.Duration
	metrics         bool
	pprofAddr       string
	redisURL        string
	presenceTTL     time.Duration
	presenceBeat    time.Duration

	// warnings are reported once the logger exists.
	warnings []string
}

// Profiles and the values of the enumerated settings.
var (
	profiles   = []string{"development", "staging", "production"}
	logFormats = []string{"text", "json"}
	logLevels  = []string{"debug", "info", "warn", "error"}
)

// profileDefaults are the settings whose default depends on the profile:
// development is for trying Parley on a laptop, the others for servers.
var profileDefaults = map[string]struct {
	development, other string
	doc                string // for -help
}{
	"log-format": {"text", "json", "text in development, json otherwise"},
	"guests":     {"true", "false", "true in development, false otherwise"},
}

// envPrefix starts the environment variable of every setting.
const envPrefix = "PARLEY_"

// envName returns the environment variable of the setting called name:
// PARLEY_ followed by name in upper snake case, so -log-level is
// PARLEY_LOG_LEVEL.
func envName(name string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// newFlagSet returns the settings of serve and migrate, bound to the fields
// of c with their profile-independent defaults.
func newFlagSet(command string, c *config) *flag.FlagSet {
	fs := flag.NewFlagSet("parley "+command, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // run reports errors and prints help itself
	c.profile = "development"
	fs.Var(&enumValue{&c.profile, profiles}, "profile",
		"Which defaults and which .env.<profile> file to use: development, staging or production. Read only from the flag and PARLEY_PROFILE.")
	fs.StringVar(&c.addr, "addr", ":8080",
		"TCP address to listen on, host:port; port 0 picks a free port.")
	fs.StringVar(&c.database, "database", "parley.db",
		"SQLite database file, created when missing; or a PostgreSQL URL, postgres://user:password@host:port/database (postgresql:// too), for several replicas sharing one database. Migrations are applied at start either way. Logs show the URL with its password hidden.")
	fs.Var(&enumValue{&c.logFormat, logFormats}, "log-format",
		"Log format: text or json. Logs go to standard error.")
	c.logLevel = "info"
	fs.Var(&enumValue{&c.logLevel, logLevels}, "log-level",
		"Least important logs to write: debug, info, warn or error.")
	fs.Var((*boolValue)(&c.guests), "guests",
		"Allow guests to chat with just a nickname; -guests=false forbids it.")
	c.grace = 15 * time.Second
	fs.Var((*durationValue)(&c.grace), "grace",
		"How long someone stays online in a room, and a member of it, after their last connection drops.")
	c.sessionTTL = parley.DefaultSessionTTL
	fs.Var((*durationValue)(&c.sessionTTL), "session-ttl",
		"How long a guest's session, and with it their nickname, lasts after they last connected, unless they sign out.")
	fs.Var((*listValue)(&c.allowedOrigins), "allowed-origins",
		"Comma-separated origins (scheme://host[:port]) besides the server's own whose pages may open the WebSocket.")
	c.shutdownTimeout = 10 * time.Second
	fs.Var((*durationValue)(&c.shutdownTimeout), "shutdown-timeout",
		"How long to wait on SIGTERM or SIGINT for connections to drain and writes to commit.")
	c.metrics = true
	fs.Var((*boolValue)(&c.metrics), "metrics",
		"Serve Prometheus metrics at GET /metrics; -metrics=false turns them off.")
	fs.StringVar(&c.pprofAddr, "pprof-addr", "",
		"TCP address for a separate listener serving Go's profiler at /debug/pprof/; empty (the default) turns it off. Keep it on localhost.")
	fs.StringVar(&c.redisURL, "redis-url", "",
		"Redis that carries messages between replicas, and keeps who is online on each: redis://[user:password@]host[:port][/db], rediss:// for TLS, or unix:///path/to/redis.sock. Empty (the default): one replica, messages carried in the process. The server starts without Redis answering, and reconnects by itself; /api/ready says whether it answers.")
	c.presenceTTL = redis.DefaultTTL
	fs.Var((*durationValue)(&c.presenceTTL), "presence-ttl",
		"With -redis-url: how long a replica's people stay online after its last heartbeat, so that those of a replica that dies go offline, and leave their rooms, within this plus -presence-heartbeat.")
	c.presenceBeat = redis.DefaultHeartbeat
	fs.Var((*durationValue)(&c.presenceBeat), "presence-heartbeat",
		"With -redis-url: how often a replica tells Redis that its people are still online, and takes offline the people of replicas that stopped; at most half of -presence-ttl.")
	return fs
}

// parseConfig resolves the settings of command from, in order of
// precedence: flags in args, environment variables read with getenv, the
// file .env.<profile>, the file .env (both in the working directory), and
// defaults. The profile itself comes only from -profile or PARLEY_PROFILE.
// An empty environment variable counts as unset. parseConfig returns
// flag.ErrHelp when args ask for help, and an error naming the setting and where its
// value came from when a value is bad.
func parseConfig(command string, args []string, getenv func(string) string) (*config, error) {
	c := new(config)
	fs := newFlagSet(command, c)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, fmt.Errorf("%v (run 'parley %s -help' for the settings)", err, command)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (run 'parley %s -help' for the settings)", fs.Arg(0), command)
	}

	// source says where each setting's value came from, for error messages.
	source := make(map[string]string)
	fs.Visit(func(f *flag.Flag) { source[f.Name] = "flag -" + f.Name })
	set := func(name, value, from string) error {
		if err := fs.Set(name, value); err != nil {
			return fmt.Errorf("setting %s: invalid value %q from %s: %v", name, value, from, err)
		}
		source[name] = from
		return nil
	}

	if _, ok := source["profile"]; !ok {
		if v := getenv(envName("profile")); v != "" {
			if err := set("profile", v, "environment variable "+envName("profile")); err != nil {
				return nil, err
			}
		}
	}

	type envFile struct {
		name string
		vars map[string]string
	}
	var files []envFile
	for _, name := range []string{".env." + c.profile, ".env"} {
		vars, err := readEnvFile(name)
		if err != nil {
			return nil, err
		}
		if vars == nil {
			continue
		}
		for _, k := range sortedKeys(vars) {
			switch {
			case k == envName("profile"):
				c.warnings = append(c.warnings, fmt.Sprintf("%s in %s is ignored: the profile comes only from -profile or the environment", k, name))
			case strings.HasPrefix(k, envPrefix) && fs.Lookup(settingName(k)) == nil:
				c.warnings = append(c.warnings, fmt.Sprintf("%s in %s is not a setting; ignored", k, name))
			}
		}
		files = append(files, envFile{name, vars})
	}

	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if _, ok := source[f.Name]; ok || err != nil || f.Name == "profile" {
			return
		}
		env := envName(f.Name)
		if v := getenv(env); v != "" {
			err = set(f.Name, v, "environment variable "+env)
			return
		}
		for _, file := range files {
			if v, ok := file.vars[env]; ok {
				err = set(f.Name, v, env+" in "+file.name)
				return
			}
		}
		if d, ok := profileDefaults[f.Name]; ok {
			v := d.other
			if c.profile == "development" {
				v = d.development
			}
			err = set(f.Name, v, "the default of profile "+c.profile)
		}
	})
	if err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		from, ok := source[settingOf(err)]
		if !ok {
			from = "the default"
		}
		return nil, fmt.Errorf("%w (from %s)", err, from)
	}
	return c, nil
}

// settingError is a value that parses but is not allowed.
type settingError struct {
	setting string
	msg     string
}

func (e *settingError) Error() string { return "setting " + e.setting + ": " + e.msg }

func settingOf(err error) string {
	var se *settingError
	if errors.As(err, &se) {
		return se.setting
	}
	return ""
}

// validate checks what the values' types cannot.
func (c *config) validate() error {
	switch {
	case c.addr == "":
		return &settingError{"addr", "must not be empty"}
	case c.database == "":
		return &settingError{"database", "must not be empty"}
	case isPostgres(c.database) && !validURL(c.database):
		// The URL is not repeated: it may hold a password.
		return &settingError{"database", "is not a valid PostgreSQL URL such as postgres://user:password@host:5432/parley"}
	case c.grace < 0:
		return &settingError{"grace", "must not be negative"}
	case c.shutdownTimeout <= 0:
		return &settingError{"shutdown-timeout", "must be positive"}
	case c.sessionTTL <= 0:
		return &settingError{"session-ttl", "must be positive"}
	case c.presenceTTL <= 0:
		return &settingError{"presence-ttl", "must be positive"}
	case c.presenceBeat <= 0:
		return &settingError{"presence-heartbeat", "must be positive"}
	case c.presenceBeat > c.presenceTTL/2:
		return &settingError{"presence-heartbeat", fmt.Sprintf("must be at most half of presence-ttl (%v), so that one late heartbeat takes nobody offline", c.presenceTTL)}
	}
	if c.redisURL != "" {
		// The URL is not repeated: it may hold a password.
		u, err := url.Parse(c.redisURL)
		switch {
		case err != nil:
			return &settingError{"redis-url", "is not a URL such as redis://host:6379"}
		case u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix":
			return &settingError{"redis-url", "must start with redis://, rediss:// or unix://"}
		}
	}
	for _, o := range c.allowedOrigins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return &settingError{"allowed-origins", fmt.Sprintf("%q is not an origin such as https://chat.example.com", o)}
		}
	}
	return nil
}

// redactURL returns rawURL with its password, if any, replaced by xxxxx,
// for logs; or "(unparsable)".
func redactURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}

// isPostgres reports whether database names a PostgreSQL database rather
// than a SQLite file.
func isPostgres(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}

func validURL(s string) bool {
	_, err := url.Parse(s)
	return err == nil
}

// redactDatabase returns database as it may be logged: a PostgreSQL URL's
// password, in its user part or its query, replaced by xxxxx.
func redactDatabase(database string) string {
	if !isPostgres(database) {
		return database
	}
	u, err := url.Parse(database)
	if err != nil {
		return "(a PostgreSQL URL that does not parse)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// readEnvFile returns the variables of the .env file called name, or nil
// when there is no such file. It never changes the process's environment.
func readEnvFile(name string) (map[string]string, error) {
	vars, err := godotenv.Read(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return vars, nil
}

// settingName is the inverse of envName.
func settingName(env string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(env, envPrefix), "_", "-"))
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// slogLevel returns the level named by c.logLevel.
func (c *config) slogLevel() slog.Level {
	var l slog.Level
	_ = l.UnmarshalText([]byte(c.logLevel)) // validated by enumValue
	return l
}

// usage writes the settings of fs, each with its environment variable and
// default, to w.
func usage(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		def := f.DefValue
		if d, ok := profileDefaults[f.Name]; ok {
			def = d.doc
		} else if def == "" {
			def = "none"
		}
		if v := valueName(f); v != "" {
			fmt.Fprintf(w, "  -%s %s\n", f.Name, v)
		} else {
			fmt.Fprintf(w, "  -%s\n", f.Name)
		}
		for _, line := range wrap(f.Usage, 72) {
			fmt.Fprintf(w, "      %s\n", line)
		}
		fmt.Fprintf(w, "      env %s, default %s\n", envName(f.Name), def)
	})
}

// wrap breaks s into lines of at most width bytes, between words.
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	return append(lines, line)
}

// valueName says what kind of value a flag takes; booleans take none.
func valueName(f *flag.Flag) string {
	switch v := f.Value.(type) {
	case *enumValue:
		return strings.Join(v.allowed, "|")
	case *boolValue:
		return ""
	case *durationValue:
		return "duration"
	case *listValue:
		return "list"
	}
	return "string"
}

// The flag.Value types below give errors that say what was expected; the
// flag package's own bool and duration values only say "parse error".

// enumValue is a string that must be one of allowed.
type enumValue struct {
	p       *string
	allowed []string
}

func (v *enumValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

func (v *enumValue) Set(s string) error {
	s = strings.ToLower(strings.TrimSpace(s))
	if !slices.Contains(v.allowed, s) {
		return fmt.Errorf("must be one of %s", strings.Join(v.allowed, ", "))
	}
	*v.p = s
	return nil
}

type boolValue bool

func (v *boolValue) String() string   { return strconv.FormatBool(bool(*v)) }
func (v *boolValue) IsBoolFlag() bool { return true }

func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		return errors.New("must be true or false")
	}
	*v = boolValue(b)
	return nil
}

type durationValue time.Duration

func (v *durationValue) String() string { return time.Duration(*v).String() }

func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return errors.New("must be a duration such as 15s, 500ms or 1m30s")
	}
	*v = durationValue(d)
	return nil
}

// listValue is a comma-separated list; empty items are dropped.
type listValue []string

func (v *listValue) String() string { return strings.Join(*v, ",") }

func (v *listValue) Set(s string) error {
	*v = nil
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			*v = append(*v, item)
		}
	}
	return nil
}
