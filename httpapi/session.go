package httpapi

import (
	"context"
	"net/http"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/protocol"
)

// identify returns whom a hello speaks for, and the token to tell the
// client in welcome, if any:
//   - the session whose token the hello presents (Frame.Session), told
//     back;
//   - else, unless the hello names another nickname, the session of the
//     upgrade request's bearer token or cookie, not told: a browser's
//     cookie is kept from scripts, and a bot knows its token;
//   - else, for a hello that names a nickname, a new guest session, told,
//     which created reports: the caller ends it if the client never learns
//     its token.
//
// A token is the server's alone: one the store does not know is refused
// (invalid_session), never taken as a new session.
func (a *auth) identify(ctx context.Context, r *http.Request, f *protocol.Frame) (s *parley.Session, token, shown string, created bool, err error) {
	if f.Session != "" {
		s, err := a.session(ctx, f.Session)
		if err != nil {
			return nil, "", "", false, err
		}
		if f.Nick != "" && parley.NickKey(f.Nick) != parley.NickKey(s.Nick) {
			return nil, "", "", false, parley.CodeErrorf(parley.Unauthenticated, parley.CodeInvalidSession, "The session belongs to another nickname.")
		}
		return s, f.Session, f.Session, false, nil
	}
	if token, _ := requestToken(r); token != "" {
		s, err := a.session(ctx, token)
		switch {
		case err == nil && (f.Nick == "" || parley.NickKey(f.Nick) == parley.NickKey(s.Nick)):
			return s, token, "", false, nil
		case err != nil && f.Nick == "":
			return nil, "", "", false, err
		}
		// A nickname of its own: the hello asks for a guest's session,
		// as if the request had presented nothing.
	}
	if !a.opts.Guests {
		return nil, "", "", false, errGuestsDisabled()
	}
	if err := parley.ValidateNick(f.Nick); err != nil {
		return nil, "", "", false, err
	}
	if err := a.limits.guest(ctx, ClientAddr(r)); err != nil {
		return nil, "", "", false, err
	}
	token, err = a.store.CreateSession(ctx, f.Nick, a.opts.SessionTTL)
	if err != nil {
		return nil, "", "", false, err
	}
	s = &parley.Session{ID: parley.HashToken(token), Nick: f.Nick, Kind: parley.SessionGuest}
	return s, token, token, true, nil
}

// errGuestsDisabled refuses a guest on a server without guest access.
func errGuestsDisabled() error {
	return parley.CodeErrorf(parley.Forbidden, protocol.CodeGuestsDisabled, "This server does not allow guest access; sign in with an account.")
}
