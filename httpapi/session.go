package httpapi

import (
	"context"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/protocol"
)

// identify returns whom a hello speaks for: the person of the session it
// presents, or a guest with a new session for the nickname it asks for. It
// reports created when it made the session, which the caller ends if the
// client never learns its token. Errors are the hello's to answer with.
//
// A token is the server's alone: one the store does not know is refused
// (invalid_session), never taken as a new session.
func identify(ctx context.Context, store parley.Store, opts *Options, f *protocol.Frame) (nick, token string, created bool, err error) {
	if !opts.Guests {
		// Every session is a guest's until accounts exist.
		return "", "", false, parley.CodeErrorf(parley.Forbidden, protocol.CodeGuestsDisabled, "This server does not allow guest access.")
	}
	if f.Session == "" {
		if err := parley.ValidateNick(f.Nick); err != nil {
			return "", "", false, err
		}
		token, err := store.CreateSession(ctx, f.Nick, opts.SessionTTL)
		if err != nil {
			return "", "", false, err
		}
		return f.Nick, token, true, nil
	}
	s, err := store.Session(ctx, f.Session)
	if err != nil {
		return "", "", false, err
	}
	if f.Nick != "" && parley.NickKey(f.Nick) != parley.NickKey(s.Nick) {
		return "", "", false, parley.CodeErrorf(parley.Unauthenticated, parley.CodeInvalidSession, "The session belongs to another nickname.")
	}
	// A session lasts SessionTTL from the last hello that used it; the
	// store is told at most every thirtieth of that (a day, by default),
	// not at every reconnect.
	if ttl := opts.SessionTTL; opts.Clock.Now().Add(ttl - ttl/30).After(s.ExpiresAt) {
		if err := store.ExtendSession(ctx, f.Session, ttl); err != nil {
			return "", "", false, err
		}
	}
	return s.Nick, f.Session, false, nil
}
