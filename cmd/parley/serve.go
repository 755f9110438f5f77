package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/httpapi"
	"github.com/parley-chat/parley/hub"
	"github.com/parley-chat/parley/metrics"
	"github.com/parley-chat/parley/postgres"
	"github.com/parley-chat/parley/redis"
	"github.com/parley-chat/parley/sqlite"
	"github.com/parley-chat/parley/web"
)

// serve runs the chat server until ctx is done, then drains it: no new
// connections, every WebSocket closed with 1001 (going away), in-flight
// appends committed, the store closed. It returns nil when all of that
// happened within cfg.shutdownTimeout.
func serve(ctx context.Context, cfg *config, logger *slog.Logger) (err error) {
	files := raiseFileLimit()
	if files.err != nil {
		logger.Warn("could not raise the open-file limit; it bounds the number of connections", "err", files.err)
	}

	// Read the certificate before anything else: a bad pair is a setting
	// to fix, not a failure to find after the store is open.
	var tlsConfig *tls.Config
	if cfg.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey)
		if err != nil {
			return fmt.Errorf("settings tls-cert and tls-key: %w", err)
		}
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}

	m := metrics.New()
	store, err := openStore(ctx, cfg.database, m.Committed)
	if err != nil {
		return err
	}
	defer func() {
		// Close waits for pending appends, so everything acknowledged is
		// committed before the process exits.
		if cerr := store.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close database: %w", cerr))
		}
		if err == nil {
			logger.Info("stopped")
		}
	}()

	api := httpapi.Options{
		AllowedOrigins: cfg.allowedOrigins,
		Observer:       m,
		Guests:         cfg.guests,
		Signup:         cfg.signup,
		SessionTTL:     cfg.sessionTTL,
		TrustedProxies: cfg.trustedProxies,
		Secure:         cfg.secure(),
		Limits:         cfg.apiLimits(),
	}
	if cfg.publicURL != "" {
		api.PublicURL, _ = url.Parse(cfg.publicURL) // validated
		// A staging server is a rehearsal of production: it refuses what
		// production refuses.
		api.OnlyPublicHost = cfg.profile != "development"
	} else if cfg.profile == "production" {
		logger.Warn("no public URL: set PARLEY_PUBLIC_URL (such as https://chat.example.com) so that the WebSocket accepts pages of that origin only, and requests for other hosts are refused; without it, any host name that reaches the server is served")
	}
	var broker hub.Broker = hub.NewLocal()
	var roster hub.Roster         // nil: the hub's own, for one replica
	var redisBroker *redis.Broker // nil without Redis
	var redisRoster *redis.Roster // nil without Redis
	if cfg.redisURL != "" {
		redis.SetLibraryLogger(logger)
		redisBroker, err = redis.NewBroker(cfg.redisURL, logger)
		if err != nil {
			return fmt.Errorf("setting redis-url: %w", err) // without the URL
		}
		// Closed after Run has returned (g.Wait below).
		defer redisBroker.Close()
		broker = redisBroker
		api.Ready = map[string]func(context.Context) error{"redis": redisBroker.Ping}
		redisRoster, err = redis.NewRoster(cfg.redisURL, logger, redis.RosterOptions{TTL: cfg.presenceTTL, Heartbeat: cfg.presenceBeat})
		if err != nil {
			return fmt.Errorf("setting redis-url: %w", err) // without the URL
		}
		defer redisRoster.Close()
		roster = redisRoster
		failures, err := redis.NewFailures(cfg.redisURL)
		if err != nil {
			return fmt.Errorf("setting redis-url: %w", err) // without the URL
		}
		defer failures.Close()
		api.Failures = failures
		if api.Limits != nil {
			limiter, err := redis.NewLimiter(cfg.redisURL)
			if err != nil {
				return fmt.Errorf("setting redis-url: %w", err) // without the URL
			}
			defer limiter.Close()
			api.Limiter = limiter
		}
	}
	maxReplay, replayBudget, replayWindow := cfg.replayLimits()
	h := hub.New(store, broker, logger, hub.Options{Grace: cfg.grace, Acked: m.Acked, Roster: roster,
		MaxReplay: maxReplay, ReplayBudget: replayBudget, ReplayWindow: replayWindow})

	if cfg.metrics {
		watchHub(m, h)
		if cfg.metricsAddr == "" {
			api.Metrics = m.Handler()
		}
	}
	srv := &http.Server{
		Handler:           httpapi.NewServer(logger, store, h, web.Handler(), api),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		TLSConfig:         tlsConfig,
	}

	// Listening before logging makes the line below true, and tells whoever
	// passed port 0 which port was picked.
	// No TCP keep-alive probes: a WebSocket is pinged by the server, which
	// closes it when the pong does not come, and an idle HTTP connection
	// ends after IdleTimeout. Probes would add nothing but four system
	// calls to every accepted connection (3% of the server's CPU while
	// clients connect).
	lc := net.ListenConfig{KeepAlive: -1}
	ln, err := lc.Listen(ctx, "tcp", cfg.addr)
	if err != nil {
		return err // says "listen tcp ADDR: ..." already
	}
	// The metrics listener too is bound before the line below, which says
	// where metrics are.
	var metricsLn net.Listener
	metricsAt := "off"
	if cfg.metrics {
		metricsAt = "/metrics on the main listener"
		if cfg.metricsAddr != "" {
			metricsLn, err = lc.Listen(ctx, "tcp", cfg.metricsAddr)
			if err != nil {
				ln.Close()
				return fmt.Errorf("setting metrics-addr: %w", err)
			}
			metricsAt = "http://" + metricsLn.Addr().String() + "/metrics"
		}
	}
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
	}
	logger.Info("listening",
		"addr", ln.Addr().String(),
		"scheme", scheme,
		"public_url", cmp.Or(cfg.publicURL, "none"),
		"metrics", metricsAt,
		"profile", cfg.profile,
		"database", redactDatabase(cfg.database),
		"redis", cmp.Or(redactURL(cfg.redisURL), "none"),
		"guests", cfg.guests,
		"signup", cfg.signup,
		"open_files", count(files.soft),
		"open_files_max", count(files.hard),
		"connections_max_approx", files.connections(),
	)

	welcomeFirstVisitor(ctx, logger, store, cfg, scheme+"://"+ln.Addr().String())

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return h.Run(ctx) })
	if redisBroker != nil {
		g.Go(func() error { return redisBroker.Run(ctx) })
		g.Go(func() error { return redisRoster.Run(ctx) })
	}
	g.Go(func() error {
		var err error
		if tlsConfig != nil {
			err = srv.ServeTLS(ln, "", "") // the certificate is in TLSConfig
		} else {
			err = srv.Serve(ln)
		}
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve %s: %w", scheme, err)
		}
		return nil
	})
	if metricsLn != nil {
		g.Go(func() error { return serveMetrics(ctx, metricsLn, m.Handler()) })
	}
	g.Go(func() error {
		<-ctx.Done()
		return drain(logger, srv, h, cfg.shutdownTimeout)
	})
	if cfg.pprofAddr != "" {
		g.Go(func() error { return servePprof(ctx, logger, cfg.pprofAddr) })
	}
	return g.Wait()
}

// welcomeFirstVisitor says, on a server without accounts, how the first
// person gets in: whoever signs up first becomes its admin, or the
// operator makes the admin with parley user add.
func welcomeFirstVisitor(ctx context.Context, logger *slog.Logger, store parley.Store, cfg *config, listening string) {
	has, err := store.HasAccounts(ctx)
	if err != nil || has {
		return
	}
	url := cmp.Or(cfg.publicURL, listening)
	logger.Warn("no account yet: the first person to sign up at " + url + " becomes the admin; or make the admin now with: parley user add -admin NAME")
}

// watchHub exposes the hub's counters as metrics.
func watchHub(m *metrics.Metrics, h *hub.Hub) {
	m.Gauge("connections", "Open WebSocket connections that have said hello.",
		func() float64 { return float64(h.Stats().Clients) })
	m.Gauge("rooms_active", "Rooms with members connected to this replica.",
		func() float64 { return float64(h.Stats().Rooms) })
	m.Counter("deliveries_total", "Entries and events fanned out to clients' queues.",
		func() float64 { return float64(h.Stats().Deliveries) })
	m.Counter("slow_clients_closed_total", "Clients closed because their outbound queue overflowed (close code 4000).",
		func() float64 { return float64(h.Stats().SlowClosed) })
	m.Counter("partial_replays_total", "Joins whose replay was cut short by -max-replay or -replay-budget; the client reads the rest over REST.",
		func() float64 { return float64(h.Stats().PartialReplays) })
}

// serveMetrics serves handler at /metrics on ln until ctx is done, and
// answers other paths with 404. Prometheus scrapes are short: the server
// closes at once, without draining.
func serveMetrics(ctx context.Context, ln net.Listener, handler http.Handler) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", handler)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
	stop := context.AfterFunc(ctx, func() { srv.Close() })
	defer stop()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve metrics: %w", err)
	}
	return nil
}

// servePprof serves Go's profiler on its own listener until ctx is done, so
// that it is never exposed with the API by accident.
func servePprof(ctx context.Context, logger *slog.Logger, addr string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen for pprof: %w", err)
	}
	logger.Info("serving pprof", "addr", ln.Addr().String())
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve pprof: %w", err)
	}
	return nil
}

// drain shuts srv and h down within timeout.
func drain(logger *slog.Logger, srv *http.Server, h *hub.Hub, timeout time.Duration) error {
	logger.Info("shutting down", "timeout", timeout)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	// Shutdown stops accepting connections and waits for plain HTTP requests,
	// but not for hijacked connections such as WebSockets: the hub closes
	// those, and Wait lets their handlers finish the appends they started.
	var errs []error
	if err := srv.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("shut down http server: %w", err))
		srv.Close()
	}
	h.Close()
	if err := h.Wait(ctx); err != nil {
		errs = append(errs, fmt.Errorf("wait for websocket connections to close: %w", err))
	}
	return errors.Join(errs...)
}

// openStore opens the store that database names: a PostgreSQL database for
// a postgres:// or postgresql:// URL, else a SQLite database file. Either
// applies its migrations. observe, if not nil, hears of every commit. The
// error never repeats a URL's password.
func openStore(ctx context.Context, database string, observe func(size int, d time.Duration)) (parley.Store, error) {
	var store parley.Store
	var err error
	if isPostgres(database) {
		var opts []postgres.Option
		if observe != nil {
			opts = append(opts, postgres.WithCommitObserver(observe))
		}
		store, err = postgres.Open(ctx, database, opts...)
	} else {
		var opts []sqlite.Option
		if observe != nil {
			opts = append(opts, sqlite.WithCommitObserver(observe))
		}
		store, err = sqlite.Open(ctx, database, opts...)
	}
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return store, nil
}

// migrate opens the store, which applies any missing migrations, and closes
// it again.
func migrate(ctx context.Context, cfg *config, logger *slog.Logger) error {
	store, err := openStore(ctx, cfg.database, nil)
	if err != nil {
		return err
	}
	if err := store.Close(); err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	logger.Info("database is up to date", "database", redactDatabase(cfg.database))
	return nil
}

// newLogger returns the logger that cfg asks for, writing to w.
func newLogger(w io.Writer, cfg *config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.slogLevel()}
	if cfg.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
