package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

// The REST API of accounts and sessions (docs/openapi.json): sign-up,
// sign-in and out, one's account, password and sessions, bearer tokens,
// and what an admin may change of others' accounts.

// maxBodyBytes bounds the JSON body of a request.
const maxBodyBytes = 16 << 10

// Bearer tokens last defaultTokenTTL unless their maker asks otherwise, at
// most maxTokenTTL.
const (
	defaultTokenTTL = 365 * 24 * time.Hour
	maxTokenTTL     = 10 * 365 * 24 * time.Hour
)

// decodeBody reads r's JSON body into v, refusing unknown fields and
// anything after the object.
func decodeBody(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return parley.Errorf(parley.Invalid, "The body must be JSON, sent with Content-Type: application/json.")
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBodyBytes+1))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return parley.Errorf(parley.Invalid, "The body is not the JSON object expected: %s.", bodyProblem(err))
	}
	if dec.More() {
		return parley.Errorf(parley.Invalid, "The body must hold one JSON object.")
	}
	return nil
}

// bodyProblem says what is wrong with a body, without echoing it.
func bodyProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q must be a %s", te.Field, te.Type)
	}
	if msg, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return "unknown field " + msg
	}
	return "malformed JSON"
}

// accountView is how an account is shown to its owner and to admins.
type accountView struct {
	Name        string     `json:"name"`
	DisplayName string     `json:"displayName"`
	Admin       bool       `json:"admin"`
	CreatedAt   time.Time  `json:"createdAt"`
	Deactivated *time.Time `json:"deactivatedAt,omitempty"`
}

func viewAccount(a *parley.Account) accountView {
	v := accountView{Name: a.Name, DisplayName: a.DisplayName, Admin: a.Admin, CreatedAt: a.CreatedAt}
	if !a.Deactivated.IsZero() {
		v.Deactivated = &a.Deactivated
	}
	return v
}

// sessionView is how a session is shown to its holder.
type sessionView struct {
	ID        string             `json:"id"`
	Kind      parley.SessionKind `json:"kind"`
	Label     string             `json:"label"`
	CreatedAt time.Time          `json:"createdAt"`
	ExpiresAt time.Time          `json:"expiresAt"`
	Current   bool               `json:"current"`
}

func viewSession(s *parley.Session, current string) sessionView {
	return sessionView{ID: s.ID, Kind: s.Kind, Label: s.Label, CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt, Current: s.ID == current}
}

// signedIn is what a handler that needs a session gets: the session and
// the token that presented it.
type signedIn struct {
	*parley.Session
	token string
}

// need wraps a handler that needs a session: an account's, unless guests
// is set. It refuses requests without one (401), of guests where an account
// is needed (403, account_required), and, for requests that change
// something, from other sites' pages (403, bad_origin).
func (a *auth) need(guests bool, f func(w http.ResponseWriter, r *http.Request, s signedIn)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.sameSite(r); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		token, fromCookie := requestToken(r)
		if token == "" {
			writeError(w, r, a.logger, errSignedOut())
			return
		}
		s, err := a.session(r.Context(), token)
		if err != nil {
			if fromCookie && parley.KindOf(err) == parley.Unauthenticated {
				a.clearCookie(w, r)
			}
			writeError(w, r, a.logger, err)
			return
		}
		if s.Guest() && !guests {
			writeError(w, r, a.logger, parley.CodeErrorf(parley.Forbidden, codeAccountRequired, "This needs an account; guests cannot do it."))
			return
		}
		f(w, r, signedIn{s, token})
	})
}

// public wraps a handler that needs no session, refusing requests that
// change something from other sites' pages.
func (a *auth) public(f http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.sameSite(r); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		f(w, r)
	})
}

// handleServerInfo says how people may enter: as guests, by signing up,
// and whether the server waits for its first account, which will be an
// admin's.
func (a *auth) handleServerInfo() http.Handler {
	type response struct {
		Guests bool `json:"guests"`
		Signup bool `json:"signup"`
		Setup  bool `json:"setup"`
	}
	return a.public(func(w http.ResponseWriter, r *http.Request) {
		has, err := a.store.HasAccounts(r.Context())
		if err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		encode(w, http.StatusOK, response{Guests: a.opts.Guests, Signup: a.opts.Signup || !has, Setup: !has})
	})
}

// signInResponse answers a sign-up or sign-in: the account and the new
// session, whose token is in the cookie only.
type signInResponse struct {
	Account accountView `json:"account"`
	Session sessionView `json:"session"`
}

// handleSignUp creates an account and signs it in. The first account of a
// server is an admin's.
func (a *auth) handleSignUp() http.Handler {
	type request struct {
		Name        string `json:"name"`
		Password    string `json:"password"`
		DisplayName string `json:"displayName"`
	}
	return a.public(func(w http.ResponseWriter, r *http.Request) {
		var req request
		if err := decodeBody(r, &req); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		ctx := r.Context()
		has, err := a.store.HasAccounts(ctx)
		if err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		if has && !a.opts.Signup {
			writeError(w, r, a.logger, parley.CodeErrorf(parley.Forbidden, codeSignupClosed, "This server takes no sign-ups; an admin makes accounts."))
			return
		}
		if err := parley.ValidateNick(req.Name); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		if err := parley.ValidatePassword(req.Password); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		acct := &parley.Account{Name: req.Name, DisplayName: req.DisplayName, Admin: !has}
		if err := parley.ValidateDisplayName(req.DisplayName); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		// Counted before the hash, which is the costly part.
		if err := a.limits.guest(ctx, ClientAddr(r)); err != nil {
			writeLimited(w, r, a.logger, err)
			return
		}
		if err := a.hash(ctx, func() { acct.PasswordHash = parley.HashPassword(req.Password, a.opts.PasswordParams) }); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		if err := a.store.CreateAccount(ctx, acct); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		if acct.Admin {
			a.logger.Info("first account created, as an admin", "name", acct.Name)
		}
		a.startSession(w, r, acct)
	})
}

// startSession starts a browser's session of acct and answers with it.
func (a *auth) startSession(w http.ResponseWriter, r *http.Request, acct *parley.Account) {
	ctx := r.Context()
	token, err := a.store.CreateAccountSession(ctx, acct.Name, parley.SessionAccount, r.UserAgent(), a.opts.SessionTTL)
	if err != nil {
		writeError(w, r, a.logger, err)
		return
	}
	s, err := a.store.Session(ctx, token)
	if err != nil {
		writeError(w, r, a.logger, err)
		return
	}
	a.setCookie(w, r, token, a.opts.SessionTTL)
	encode(w, http.StatusCreated, signInResponse{Account: viewAccount(acct), Session: viewSession(s, s.ID)})
}

// handleSignIn checks a name and password, and starts a session.
// Failures are throttled per account and per address, and all answer
// alike: nobody learns from them who has an account.
func (a *auth) handleSignIn() http.Handler {
	type request struct {
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	return a.public(func(w http.ResponseWriter, r *http.Request) {
		var req request
		if err := decodeBody(r, &req); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		if len(req.Password) > parley.MaxPasswordBytes || len(req.Name) > 4*parley.MaxNickLen {
			writeError(w, r, a.logger, errSignIn())
			return
		}
		ctx := r.Context()
		keys := []string{"account " + parley.NickKey(req.Name), "address " + ClientAddr(r).String()}
		if !a.allowed(w, r, keys...) {
			return
		}
		acct, err := a.store.Account(ctx, req.Name)
		if err != nil && parley.KindOf(err) != parley.NotFound {
			writeError(w, r, a.logger, err)
			return
		}
		ok, err := a.checkPassword(ctx, acct, req.Password)
		if err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		if !ok {
			a.failures.fail(r.Context(), keys...)
			writeError(w, r, a.logger, errSignIn())
			return
		}
		a.failures.succeed(r.Context(), keys[0])
		a.startSession(w, r, acct)
	})
}

// allowed answers 429 with Retry-After, and reports false, when an attempt
// under one of keys must wait.
func (a *auth) allowed(w http.ResponseWriter, r *http.Request, keys ...string) bool {
	var wait time.Duration
	for _, key := range keys {
		wait = max(wait, a.failures.wait(r.Context(), key))
	}
	if wait == 0 {
		return true
	}
	seconds := int((wait + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", fmt.Sprint(seconds))
	writeError(w, r, a.logger, parley.Errorf(parley.TooMany, "Too many failed attempts; try again in %d seconds.", seconds))
	return false
}

// handleEndSession ends a session: the request's own when the ID is
// "current" (a sign-out, for any session), or one of one's account's.
func (a *auth) handleEndSession() http.Handler {
	signOut, revoke := a.handleSignOut(), a.handleRevokeSession()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "current" {
			signOut.ServeHTTP(w, r)
		} else {
			revoke.ServeHTTP(w, r)
		}
	})
}

// handleSignOut ends the session of the request, whatever its kind, and
// closes its connections everywhere.
func (a *auth) handleSignOut() http.Handler {
	return a.need(true, func(w http.ResponseWriter, r *http.Request, s signedIn) {
		if err := a.store.EndSession(r.Context(), s.token); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		a.endSessions(r, s.ID)
		a.clearCookie(w, r)
		w.WriteHeader(http.StatusNoContent)
	})
}

// endSessions closes the connections of the sessions ended, on every
// replica.
func (a *auth) endSessions(r *http.Request, ids ...string) {
	if err := a.hub.EndSessions(r.Context(), ids...); err != nil {
		// The sessions have ended in the store: a connection left open
		// elsewhere cannot say hello with them again.
		a.logger.Warn("tell other replicas of ended sessions", "err", err)
	}
}

// handleMe answers who the request's session is.
func (a *auth) handleMe() http.Handler {
	type response struct {
		Name    string             `json:"name"`
		Kind    parley.SessionKind `json:"kind"`
		Account *accountView       `json:"account,omitempty"`
	}
	return a.need(true, func(w http.ResponseWriter, r *http.Request, s signedIn) {
		resp := response{Name: s.Nick, Kind: s.Kind}
		if !s.Guest() {
			acct, err := a.store.Account(r.Context(), s.Nick)
			if err != nil {
				writeError(w, r, a.logger, err)
				return
			}
			v := viewAccount(acct)
			resp.Account = &v
		}
		encode(w, http.StatusOK, resp)
	})
}

// handleUpdateMe changes one's display name.
func (a *auth) handleUpdateMe() http.Handler {
	type request struct {
		DisplayName *string `json:"displayName"`
	}
	return a.need(false, func(w http.ResponseWriter, r *http.Request, s signedIn) {
		var req request
		if err := decodeBody(r, &req); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		a.update(w, r, s.Nick, parley.AccountUpdate{DisplayName: req.DisplayName})
	})
}

// update changes the account named name, closes the connections of the
// sessions that ends, and answers with the account.
func (a *auth) update(w http.ResponseWriter, r *http.Request, name string, u parley.AccountUpdate) {
	ended, err := a.store.UpdateAccount(r.Context(), name, u)
	if err != nil {
		writeError(w, r, a.logger, err)
		return
	}
	a.endSessions(r, ended...)
	acct, err := a.store.Account(r.Context(), name)
	if err != nil {
		writeError(w, r, a.logger, err)
		return
	}
	encode(w, http.StatusOK, viewAccount(acct))
}

// handleChangePassword sets a new password, given the current one, and
// ends every other session of the account: whoever knew the old password
// is signed out everywhere.
func (a *auth) handleChangePassword() http.Handler {
	type request struct {
		Current string `json:"current"`
		New     string `json:"new"`
	}
	return a.need(false, func(w http.ResponseWriter, r *http.Request, s signedIn) {
		var req request
		if err := decodeBody(r, &req); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		if err := signedInHere(s, "change the password"); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		if err := parley.ValidatePassword(req.New); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		ctx := r.Context()
		key := "account " + parley.NickKey(s.Nick)
		if !a.allowed(w, r, key) {
			return
		}
		acct, err := a.store.Account(ctx, s.Nick)
		if err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		ok, err := a.checkPassword(ctx, acct, req.Current)
		if err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		if !ok {
			a.failures.fail(ctx, key)
			writeError(w, r, a.logger, parley.CodeErrorf(parley.Forbidden, codeInvalidCredentials, "The current password is wrong."))
			return
		}
		var hash string
		if err := a.hash(ctx, func() { hash = parley.HashPassword(req.New, a.opts.PasswordParams) }); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		a.update(w, r, s.Nick, parley.AccountUpdate{PasswordHash: &hash, Keep: s.ID})
	})
}

// handleListSessions lists one's sessions: browsers and bearer tokens.
func (a *auth) handleListSessions() http.Handler {
	type response struct {
		Sessions []sessionView `json:"sessions"`
	}
	return a.need(false, func(w http.ResponseWriter, r *http.Request, s signedIn) {
		list, err := a.store.AccountSessions(r.Context(), s.Nick)
		if err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		resp := response{Sessions: make([]sessionView, len(list))}
		for i, x := range list {
			resp.Sessions[i] = viewSession(x, s.ID)
		}
		encode(w, http.StatusOK, resp)
	})
}

// handleRevokeSession ends one of one's sessions, and closes its
// connections everywhere.
func (a *auth) handleRevokeSession() http.Handler {
	return a.need(false, func(w http.ResponseWriter, r *http.Request, s signedIn) {
		id := r.PathValue("id")
		if err := a.store.EndAccountSession(r.Context(), s.Nick, id); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		a.endSessions(r, id)
		if id == s.ID {
			a.clearCookie(w, r)
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleCreateToken makes a bearer token of one's account, for a bot or a
// script: its only showing.
func (a *auth) handleCreateToken() http.Handler {
	type request struct {
		Label string `json:"label"`
		// ExpiresIn is a Go duration, such as "720h"; empty means a year.
		ExpiresIn string `json:"expiresIn"`
	}
	type response struct {
		Token   string      `json:"token"`
		Session sessionView `json:"session"`
	}
	return a.need(false, func(w http.ResponseWriter, r *http.Request, s signedIn) {
		var req request
		if err := decodeBody(r, &req); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		if err := signedInHere(s, "make tokens"); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		ttl, err := tokenTTL(req.ExpiresIn)
		if err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		token, err := a.store.CreateAccountSession(r.Context(), s.Nick, parley.SessionToken, req.Label, ttl)
		if err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		made, err := a.store.Session(r.Context(), token)
		if err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		encode(w, http.StatusCreated, response{Token: token, Session: viewSession(made, s.ID)})
	})
}

// signedInHere refuses what only a password sign-in may do, such as
// changing the password or making tokens, to a bearer token's session.
func signedInHere(s signedIn, what string) error {
	if s.Kind != parley.SessionAccount {
		return parley.CodeErrorf(parley.Forbidden, codeAccountRequired, "A bearer token cannot %s; sign in.", what)
	}
	return nil
}

// tokenTTL reads the life asked of a bearer token.
func tokenTTL(expiresIn string) (time.Duration, error) {
	if expiresIn == "" {
		return defaultTokenTTL, nil
	}
	ttl, err := time.ParseDuration(expiresIn)
	if err != nil || ttl < time.Minute || ttl > maxTokenTTL {
		return 0, parley.Errorf(parley.Invalid, "expiresIn must be a duration from 1m to %s, such as \"720h\".", maxTokenTTL)
	}
	return ttl, nil
}

// handleAdminUpdate lets an admin make another account an admin or not,
// and deactivate or reactivate it; deactivating closes its connections
// everywhere. To anyone else the account does not exist.
func (a *auth) handleAdminUpdate() http.Handler {
	type request struct {
		Admin  *bool `json:"admin"`
		Active *bool `json:"active"`
	}
	return a.need(false, func(w http.ResponseWriter, r *http.Request, s signedIn) {
		name := r.PathValue("name")
		if !s.Admin {
			writeError(w, r, a.logger, parley.ErrNoAccount(name))
			return
		}
		var req request
		if err := decodeBody(r, &req); err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		if parley.NickKey(name) == parley.NickKey(s.Nick) && (req.Admin != nil && !*req.Admin || req.Active != nil && !*req.Active) {
			writeError(w, r, a.logger, parley.Errorf(parley.Invalid, "Admins cannot demote or deactivate themselves; ask another admin."))
			return
		}
		a.update(w, r, name, parley.AccountUpdate{Admin: req.Admin, Active: req.Active})
	})
}
