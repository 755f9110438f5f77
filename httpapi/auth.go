package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/hub"
)

// Who a request speaks for. A browser holds its session in a cookie that
// scripts cannot read (HttpOnly, SameSite=Lax); bots and scripts present a
// bearer token. Both are sessions of the store, and a WebSocket hello may
// use either (see identify).

// sessionCookie is the name of the cookie that holds a browser's session.
const sessionCookie = "parley_session"

// auth identifies requests, and signs people in and out.
type auth struct {
	logger *slog.Logger
	store  parley.Store
	hub    *hub.Hub
	opts   *Options
	// hashes bounds the password hashes computed at once, each of which
	// takes PasswordParams.Memory: a burst of sign-ins waits its turn
	// instead of exhausting memory.
	hashes chan struct{}
	// failures throttles sign-ins that keep failing, per account and per
	// address.
	failures *backoff
	// limits bound what one address or person may do (limits.go).
	limits *limits
	// decoy is a hash that no password matches, checked for accounts that
	// do not exist, so that their answers take as long as a wrong
	// password's: the time of an answer does not tell who has an account.
	decoy string
}

func newAuth(logger *slog.Logger, store parley.Store, h *hub.Hub, opts *Options) *auth {
	a := &auth{
		logger:   logger,
		store:    store,
		hub:      h,
		opts:     opts,
		hashes:   make(chan struct{}, max(1, runtime.GOMAXPROCS(0))),
		failures: newBackoff(opts.Clock),
		limits:   newLimits(logger, opts),
		decoy:    parley.HashPassword(parley.NewToken(), opts.PasswordParams),
	}
	a.failures.shared, a.failures.warn = opts.Failures, a.limits.warn
	return a
}

// requestToken returns the session token a request presents: a bearer
// token in its Authorization header, else its session cookie, else "".
// fromCookie says which.
func requestToken(r *http.Request) (token string, fromCookie bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, _ := strings.Cut(h, " ")
		if strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(token), false
		}
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		return c.Value, true
	}
	return "", false
}

// session returns the session of token, extending it when it has used a
// thirtieth of its life. Guests' sessions are refused (guests_disabled)
// on a server without guest access.
func (a *auth) session(ctx context.Context, token string) (*parley.Session, error) {
	s, err := a.store.Session(ctx, token)
	if err != nil {
		return nil, err
	}
	if s.Guest() && !a.opts.Guests {
		return nil, errGuestsDisabled()
	}
	// A session lasts SessionTTL from the last time it was used; the store
	// is told at most every thirtieth of that (a day, by default), not at
	// every request. A bearer token keeps the life it was made with.
	if ttl := a.opts.SessionTTL; s.Kind != parley.SessionToken && a.opts.Clock.Now().Add(ttl-ttl/30).After(s.ExpiresAt) {
		if err := a.store.ExtendSession(ctx, token, ttl); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// errSignIn is the answer to a sign-in that fails, whatever the reason: no
// such account, a deactivated one, or a wrong password.
func errSignIn() error {
	return parley.CodeErrorf(parley.Unauthenticated, codeInvalidCredentials, "The name or the password is wrong.")
}

// errSignedOut is the answer to a request that needs a session and
// presents none.
func errSignedOut() error {
	return parley.Errorf(parley.Unauthenticated, "Sign in first.")
}

// Codes of the errors of accounts, beyond the domain's.
const (
	codeInvalidCredentials = "invalid_credentials" // a sign-in or password change with a wrong name or password
	codeSignupClosed       = "signup_closed"       // a sign-up on a server that takes none
	codeAccountRequired    = "account_required"    // a guest's request for what needs an account
	codeBadOrigin          = "bad_origin"          // a request that changes something, from another site's page
)

// hash runs f, which computes a password hash, once a hashing slot is free,
// or returns Unavailable if ctx ends first.
func (a *auth) hash(ctx context.Context, f func()) error {
	select {
	case a.hashes <- struct{}{}:
	case <-ctx.Done():
		return parley.Errorf(parley.Unavailable, "The server is busy; try again in a moment.")
	}
	defer func() { <-a.hashes }()
	f()
	return nil
}

// checkPassword reports whether password is the account's (nil for an
// account that does not exist or is deactivated, which no password opens),
// taking as long either way.
func (a *auth) checkPassword(ctx context.Context, acct *parley.Account, password string) (bool, error) {
	hash := a.decoy
	if acct != nil && acct.Deactivated.IsZero() {
		hash = acct.PasswordHash
	}
	var ok bool
	var err error
	if herr := a.hash(ctx, func() { ok, _, err = parley.CheckPassword(hash, password, a.opts.PasswordParams) }); herr != nil {
		return false, herr
	}
	if err != nil {
		return false, err
	}
	return ok && hash != a.decoy, nil
}

// setCookie gives the browser the session of token, for ttl.
func (a *auth) setCookie(w http.ResponseWriter, r *http.Request, token string, ttl time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: token, Path: "/",
		MaxAge: int(ttl / time.Second), HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: r.TLS != nil || a.opts.Secure,
	})
}

// clearCookie tells the browser to forget its session.
func (a *auth) clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil || a.opts.Secure,
	})
}

// sameSite refuses a request that would change something when a page of
// another site sent it: its Origin, when it has one, must be the server's
// own or an allowed one. Browsers send Origin with every such request; a
// program that sends none is no browser, and carries no one's cookie by
// accident. With SameSite=Lax cookies this keeps other sites from acting
// in a signed-in person's name.
func (a *auth) sameSite(r *http.Request) error {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return nil
	}
	if checkOrigin(a.opts.AllowedOrigins, a.opts.PublicURL)(r) {
		return nil
	}
	return parley.CodeErrorf(parley.Forbidden, codeBadOrigin, "Requests that change something are taken only from this server's own pages.")
}
