// Package httpapi serves Parley over HTTP: the REST API under /api, the
// WebSocket endpoint /ws (protocol in docs/PROTOCOL.md, encoded by package
// protocol), and the web UI for every other path.
//
// It owns everything HTTP and WebSocket, and who a connection is: hello is
// identified here, with sessions from the store (session.go), before the
// hub sees the connection. It must not keep state of its own beyond each
// connection's and the counts of its limits against abuse (limits.go,
// backoff.go; shared through a Limiter and a FailureStore when there are
// several replicas), nor decide room order or fan-out, which are the hub's:
// routes.go lists the whole surface, socket.go speaks the protocol, and
// transport.go moves its bytes.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/hub"
)

// Options tune the HTTP surface.
type Options struct {
	// AllowedOrigins lists extra origins (scheme://host[:port]) whose pages
	// may open the WebSocket; the server's own origin is always allowed.
	AllowedOrigins []string
	// PublicURL, when set, is where people reach the server
	// (scheme://host[:port], such as https://chat.example.com), which may
	// be behind a proxy: the server's own origin is then its scheme and
	// host, whatever Host a request names.
	PublicURL *url.URL
	// OnlyPublicHost refuses requests for another host than PublicURL's
	// with 421 and the code wrong_host, except GET /api/health and
	// /api/ready, which probes send to the server's own address.
	OnlyPublicHost bool
	// TrustedProxies are the addresses of the reverse proxies whose
	// X-Forwarded-For is believed; see ClientAddr.
	TrustedProxies []netip.Prefix
	// Secure says that browsers reach the server over HTTPS (it serves
	// TLS, or PublicURL is https): cookies must carry Secure.
	Secure bool
	// Observer receives observations of the WebSocket traffic; nil
	// records nothing.
	Observer Observer
	// Metrics, when set, is served at GET /metrics.
	Metrics http.Handler
	// Guests allows hello with a bare nickname, which starts a guest
	// session.
	Guests bool
	// Signup lets anyone make an account. Without it, only the first
	// account of a server is made on the web (it is an admin's); the
	// operator makes the others (parley user add).
	Signup bool
	// PasswordParams are the costs of new password hashes; zero means
	// parley.DefaultPasswordParams.
	PasswordParams parley.PasswordParams

	// SessionTTL is how long a session lasts after the last hello that
	// used it; zero means parley.DefaultSessionTTL.
	SessionTTL time.Duration
	// Clock times the protocol's timers; nil means the system clock.
	Clock Clock
	// WriteTimeout bounds the writing of every response but the
	// WebSocket's; zero means 30 seconds.
	WriteTimeout time.Duration
	// Limits bound what one address or one person may do (limits.go);
	// nil limits nothing.
	Limits *Limits
	// Limiter, when set, counts the Limits' rates for every replica
	// together; nil counts on this replica alone.
	Limiter Limiter
	// Failures, when set, keeps the failed sign-ins that slow down
	// guessing for every replica together; nil keeps them in memory.
	Failures FailureStore
	// Ready names the parts besides the store that GET /api/ready asks
	// whether they answer, such as "redis", each with a function that
	// returns an error when it does not. The store is always asked.
	Ready map[string]func(context.Context) error
}

// Observer is told about the WebSocket traffic, for metrics.
type Observer interface {
	FrameIn()              // a client frame was read
	MessageOut(events int) // a message carrying events events was written
	Rejected(code string)  // a frame was refused with an error of code
}

// A LimitObserver is an Observer that is also told of the requests and
// frames that a limit refused, by the limit's name (docs/OPERATIONS.md).
type LimitObserver interface {
	Limited(limit string)
}

type nopObserver struct{}

func (nopObserver) FrameIn()        {}
func (nopObserver) MessageOut(int)  {}
func (nopObserver) Rejected(string) {}

// NewServer returns the handler for the whole HTTP surface: /api, /ws, and
// ui for everything else.
func NewServer(logger *slog.Logger, store parley.Store, h *hub.Hub, ui http.Handler, opts Options) http.Handler {
	if opts.Observer == nil {
		opts.Observer = nopObserver{}
	}
	if opts.Clock == nil {
		opts.Clock = systemClock{}
	}
	if opts.SessionTTL == 0 {
		opts.SessionTTL = parley.DefaultSessionTTL
	}
	if opts.PasswordParams == (parley.PasswordParams{}) {
		opts.PasswordParams = parley.DefaultPasswordParams
	}
	// Errors are logged at a bounded rate: a failing store must not
	// bury its first error under one line for every frame.
	logger = slog.New(throttle(logger.Handler(), opts.Clock))
	if opts.WriteTimeout == 0 {
		opts.WriteTimeout = 30 * time.Second
	}
	mux := http.NewServeMux()
	addRoutes(mux, logger, store, h, ui, opts)
	var handler http.Handler = mux
	if opts.PublicURL != nil && opts.OnlyPublicHost {
		handler = onlyHost(opts.PublicURL, handler)
	}
	return writeDeadline(opts.WriteTimeout, withClientAddr(opts.TrustedProxies, handler))
}

// writeDeadline gives every response but the WebSocket's d to be written,
// on the system clock (a network deadline): a client that requests a large
// answer and never reads it cannot hold the handler, and the memory of its
// answer, for ever. (200 such clients of GET /api/rooms once drove a
// server from 17 MB to 2.36 GB.) A WebSocket sets its own deadline for
// each write.
func writeDeadline(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ws" {
			http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d))
		}
		next.ServeHTTP(w, r)
	})
}
