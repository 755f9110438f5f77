package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/joho/godotenv"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/httpapi"
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
	signup          bool
	grace           time.Duration
	sessionTTL      time.Duration
	allowedOrigins  []string
	shutdownTimeout time.Duration
	metrics         bool
	metricsAddr     string // empty: on the main listener
	pprofAddr       string
	publicURL       string // empty, or scheme://host[:port] as validate left it
	trustedProxies  []netip.Prefix
	tlsCert         string
	tlsKey          string
	redisURL        string
	presenceTTL     time.Duration
	presenceBeat    time.Duration
	limits          bool         // -limits: false turns off the ones below
	connsPerAddress int          // 0: none
	connectRate     httpapi.Rate // the zero Rate: none
	messageRate     httpapi.Rate
	roomRate        httpapi.Rate
	guestRate       httpapi.Rate
	maxReplay       int // 0: none
	replayBudget    httpapi.Rate

	// args are the command's arguments besides the settings: backup's file.
	args []string
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
	// Metrics are for the operator, not the public: on servers they get a
	// port of their own, which the proxy does not forward. All interfaces,
	// not 127.0.0.1, because a scraper reaches a container or a pod from
	// outside it.
	"metrics-addr": {"", defaultMetricsAddr, "none (the main listener) in development, " + defaultMetricsAddr + " otherwise"},
}

// defaultMetricsAddr is where staging and production serve /metrics.
const defaultMetricsAddr = ":9090"

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
		"Allow guests to chat with just a nickname; -guests=false forbids it, and only accounts may enter.")
	c.signup = true
	fs.Var((*boolValue)(&c.signup), "signup",
		"Let anyone make an account on the sign-in page; -signup=false keeps that to the first account (an admin's), and the operator makes the others with 'parley user add'.")
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
	fs.StringVar(&c.metricsAddr, "metrics-addr", "",
		"TCP address of a separate listener for GET /metrics, host:port. The default in staging and production, :9090, listens on every interface, so that Prometheus can scrape a container or a pod; keep that port off the internet (publish or forward only the main one), or give 127.0.0.1:9090 when the scraper runs on the same host. Empty (the flag -metrics-addr= or the development default): /metrics on the main listener. With a separate listener the main one answers /metrics with 404.")
	fs.StringVar(&c.pprofAddr, "pprof-addr", "",
		"TCP address for a separate listener serving Go's profiler at /debug/pprof/; empty (the default) turns it off. Keep it on localhost.")
	fs.StringVar(&c.redisURL, "redis-url", "",
		"Redis that carries messages between replicas, and keeps who is online on each: redis://[user:password@]host[:port][/db], rediss:// for TLS, or unix:///path/to/redis.sock. Empty (the default): one replica, messages carried in the process. The server starts without Redis answering, and reconnects by itself; /api/ready says whether it answers.")
	fs.StringVar(&c.publicURL, "public-url", "",
		"The URL people reach the server at, scheme://host[:port] such as https://chat.example.com, when it is behind a proxy or has a name. Pages of its origin (and of -allowed-origins) may open the WebSocket; in staging and production, requests for another host are refused with 421, except /api/health and /api/ready.")
	fs.Var((*prefixListValue)(&c.trustedProxies), "trusted-proxies",
		"Comma-separated addresses or CIDR ranges (10.0.0.0/8, 127.0.0.1, ::1) of the reverse proxies in front of the server. A request from one of them is taken to come from the rightmost address of X-Forwarded-For that is not a trusted proxy; from anyone else, from the connection's address. Logs and limits per address use that client address.")
	fs.StringVar(&c.tlsCert, "tls-cert", "",
		"PEM file of the TLS certificate (with its chain) to serve HTTPS and wss:// on -addr, with -tls-key; TLS 1.2 or later. Empty (the default): plain HTTP, for a server behind a proxy that ends TLS.")
	fs.StringVar(&c.tlsKey, "tls-key", "",
		"PEM file of the private key of -tls-cert; give both or neither.")
	c.presenceTTL = redis.DefaultTTL
	fs.Var((*durationValue)(&c.presenceTTL), "presence-ttl",
		"With -redis-url: how long a replica's people stay online after its last heartbeat, so that those of a replica that dies go offline, and leave their rooms, within this plus -presence-heartbeat.")
	c.presenceBeat = redis.DefaultHeartbeat
	fs.Var((*durationValue)(&c.presenceBeat), "presence-heartbeat",
		"With -redis-url: how often a replica tells Redis that its people are still online, and takes offline the people of replicas that stopped; at most half of -presence-ttl.")
	c.limits = true
	fs.Var((*boolValue)(&c.limits), "limits",
		"Enforce the limits per address and per person below (-conns-per-address, -connect-rate, -message-rate, -room-rate, -guest-rate) and the replay limits (-max-replay, -replay-budget). -limits=false turns every one of them off, for load tests on a trusted network ('parley bench --spawn' does); never on a server strangers reach. With -redis-url, the rates are counted for all replicas together.")
	c.connsPerAddress = httpapi.DefaultLimits.Connections
	fs.Var((*countValue)(&c.connsPerAddress), "conns-per-address",
		"The most WebSocket connections one client address (an IPv6 /64) may hold open at once on one replica; more are refused with 429. 0: no limit. Raise it for many people behind one NAT.")
	c.connectRate = httpapi.DefaultLimits.Connect
	fs.Var((*rateValue)(&c.connectRate), "connect-rate",
		"How fast one client address may open WebSocket connections, N/DURATION: a burst of N, then one more every DURATION/N; more are refused with 429. off: no limit.")
	c.messageRate = httpapi.DefaultLimits.Messages
	fs.Var((*rateValue)(&c.messageRate), "message-rate",
		"How fast one person (an account, or a guest's nickname) may send messages over all their connections, N/DURATION; more are refused with the error rate_limited. off: no limit.")
	c.roomRate = httpapi.DefaultLimits.Rooms
	fs.Var((*rateValue)(&c.roomRate), "room-rate",
		"How fast one client address, and one person, may create rooms (by joining a room that does not exist), N/DURATION; more are refused with rate_limited. off: no limit.")
	c.guestRate = httpapi.DefaultLimits.Guests
	fs.Var((*rateValue)(&c.guestRate), "guest-rate",
		"How fast one client address may start guest sessions and make accounts (each holds a name), N/DURATION; more are refused with rate_limited or 429. off: no limit.")
	c.maxReplay = defaultMaxReplay
	fs.Var((*countValue)(&c.maxReplay), "max-replay",
		"The most log entries one join replays; a client further behind gets the newest ones, and joined's replayFrom says where to read the rest over REST. 0: no limit.")
	c.replayBudget = defaultReplayBudget
	fs.Var((*rateValue)(&c.replayBudget), "replay-budget",
		"The most log entries one connection is replayed over all its joins, N/DURATION; beyond it a join gets what is left, the newest entries, as with -max-replay. off: no limit.")
	return fs
}

// The replay limits' defaults: those of package hub, which a zero setting
// would not give (zero means none).
var (
	defaultMaxReplay    = 1000
	defaultReplayBudget = httpapi.Rate{N: 10_000, Per: time.Minute}
)

// apiLimits returns the limits per address and per person of c, nil when
// -limits is off.
func (c *config) apiLimits() *httpapi.Limits {
	if !c.limits {
		return nil
	}
	return &httpapi.Limits{
		Connections: c.connsPerAddress,
		Connect:     c.connectRate,
		Messages:    c.messageRate,
		Rooms:       c.roomRate,
		Guests:      c.guestRate,
	}
}

// replayLimits returns the hub's replay settings for c: hub.Options'
// MaxReplay, ReplayBudget and ReplayWindow, negative for none.
func (c *config) replayLimits() (maxReplay, budget int, window time.Duration) {
	maxReplay, budget, window = -1, -1, time.Minute
	if !c.limits {
		return
	}
	if c.maxReplay > 0 {
		maxReplay = c.maxReplay
	}
	if c.replayBudget.On() {
		budget, window = c.replayBudget.N, c.replayBudget.Per
	}
	return
}

// parseConfig resolves the settings of command from, in order of
// precedence: flags in args, the environment variables of environ (the
// process's environment, "KEY=value" strings as os.Environ returns them),
// the file .env.<profile>, the file .env (both in the working directory),
// and defaults. The profile itself comes only from -profile or
// PARLEY_PROFILE. An empty environment variable counts as unset.
// parseConfig returns flag.ErrHelp when args ask for help, and an error
// naming the setting and where its value came from when a value is bad.
// PARLEY_ variables that name no setting are reported in c.warnings.
//
// backup takes one argument, the file to write, anywhere among its flags;
// it is returned in c.args. Other commands take none.
func parseConfig(command string, args []string, environ []string) (*config, error) {
	c := new(config)
	fs := newFlagSet(command, c)
	parse := func(args []string) error {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return fmt.Errorf("%v (run 'parley %s -help' for the settings)", err, command)
		}
		return nil
	}
	if err := parse(args); err != nil {
		return nil, err
	}
	if command == "backup" && fs.NArg() > 0 {
		c.args = fs.Args()[:1]
		if err := parse(fs.Args()[1:]); err != nil {
			return nil, err
		}
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (run 'parley %s -help' for the settings)", fs.Arg(0), command)
	}
	if command == "backup" && len(c.args) == 0 {
		return nil, errors.New("backup needs the name of the file to write: parley backup [flags] FILE")
	}

	env := make(map[string]string)
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if _, ok := env[k]; !ok { // the first wins, as in os.Getenv
			env[k] = v
		}
	}
	getenv := func(k string) string { return env[k] }
	for _, k := range sortedKeys(env) {
		if env[k] != "" {
			if w := unknownVariable(fs, k, "the environment"); w != "" {
				c.warnings = append(c.warnings, w)
			}
		}
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
			default:
				if w := unknownVariable(fs, k, name); w != "" {
					c.warnings = append(c.warnings, w)
				}
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
	switch {
	case c.metricsAddr != "" && c.metricsAddr == c.addr && !strings.HasSuffix(c.addr, ":0"):
		return &settingError{"metrics-addr", "must differ from addr; leave it empty (-metrics-addr=) to serve /metrics on the main listener"}
	case (c.tlsCert == "") != (c.tlsKey == ""):
		set, unset := "tls-cert", "tls-key"
		if c.tlsCert == "" {
			set, unset = unset, set
		}
		return &settingError{set, fmt.Sprintf("needs %s too: tls-cert and tls-key go together, or neither for plain HTTP", unset)}
	}
	if c.publicURL != "" {
		u, err := url.Parse(c.publicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return &settingError{"public-url", fmt.Sprintf("%q is not a URL such as https://chat.example.com (scheme and host, an optional port, no path)", c.publicURL)}
		}
		c.publicURL = u.Scheme + "://" + strings.ToLower(u.Host)
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

// secure reports whether browsers reach the server over HTTPS: it serves
// TLS itself, or its public URL, in front of which a proxy ends TLS, is
// https. Cookies it sets must then be Secure.
func (c *config) secure() bool {
	return c.tlsCert != "" || strings.HasPrefix(c.publicURL, "https://")
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

// notSettings are the prefixes of the PARLEY_ variables that are read on
// purpose by something other than the settings: the tests
// (PARLEY_TEST_POSTGRES), the web client's browser tests (PARLEY_E2E_BIN)
// and development server (PARLEY_DEV_SERVER). They are never reported as
// unknown, and no setting's name may start with them.
var notSettings = []string{"PARLEY_TEST_", "PARLEY_E2E_", "PARLEY_DEV_"}

// unknownVariable returns a warning when the variable k, found in where,
// looks like a setting's but names none of fs: it starts with PARLEY_ and
// not with one of notSettings. The warning names the closest setting's
// variable when one is close enough to be a likely misspelling.
func unknownVariable(fs *flag.FlagSet, k, where string) string {
	if !strings.HasPrefix(k, envPrefix) || k == envName("profile") || fs.Lookup(settingName(k)) != nil {
		return ""
	}
	for _, p := range notSettings {
		if strings.HasPrefix(k, p) {
			return ""
		}
	}
	if where == "the environment" {
		where = "environment variable " + k
	} else {
		where = k + " in " + where
	}
	w := where + " is not a setting; ignored"
	if near := closestSetting(fs, k); near != "" {
		w += "; did you mean " + near + "?"
	}
	return w
}

// closestSetting returns the environment variable of the setting of fs
// nearest to k by edit distance, or "" when none is within a third of
// their length (at least 2 edits), too far to be a slip.
func closestSetting(fs *flag.FlagSet, k string) string {
	name := strings.TrimPrefix(k, envPrefix)
	best, bestDist := "", 0
	fs.VisitAll(func(f *flag.Flag) {
		env := envName(f.Name)
		d := editDistance(name, strings.TrimPrefix(env, envPrefix))
		if best == "" || d < bestDist {
			best, bestDist = env, d
		}
	})
	if bestDist > max(2, len(name)/3) {
		return ""
	}
	return best
}

// editDistance returns the number of single-byte insertions, deletions,
// substitutions and swaps of neighbours that turn a into b (the optimal
// string alignment distance), so that PARLEY_ADRR is one from PARLEY_ADDR.
func editDistance(a, b string) int {
	// d[i][j] is the distance between a[:i] and b[:j].
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
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
	case *listValue, *prefixListValue:
		return "list"
	case *countValue:
		return "count"
	case *rateValue:
		return "rate"
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

// countValue is a count, 0 or more.
type countValue int

func (v *countValue) String() string { return strconv.Itoa(int(*v)) }

func (v *countValue) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return errors.New("must be a whole number, 0 or more")
	}
	*v = countValue(n)
	return nil
}

// rateValue is a rate, N/DURATION or off (httpapi.ParseRate).
type rateValue httpapi.Rate

func (v *rateValue) String() string { return httpapi.Rate(*v).String() }

func (v *rateValue) Set(s string) error {
	r, err := httpapi.ParseRate(s)
	if err != nil {
		return errors.New("must be N/DURATION, such as 30/10s or 120/1m, or off")
	}
	*v = rateValue(r)
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

// prefixListValue is a comma-separated list of IP addresses and CIDR
// ranges; an address stands for the range of itself alone.
type prefixListValue []netip.Prefix

func (v *prefixListValue) String() string {
	s := make([]string, len(*v))
	for i, p := range *v {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

func (v *prefixListValue) Set(s string) error {
	var list []netip.Prefix
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		p, err := netip.ParsePrefix(item)
		if err != nil {
			a, aerr := netip.ParseAddr(item)
			if aerr != nil {
				return fmt.Errorf("%q is not an IP address or a CIDR range such as 10.0.0.0/8", item)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		list = append(list, p.Masked())
	}
	*v = list
	return nil
}
