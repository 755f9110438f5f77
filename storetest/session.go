package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// The checks of sessions. Tokens are the server's alone: a store makes
// them, keeps them hashed, and knows a session only by its token.

func testSession(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	ctx := t.Context()
	before := time.Now()
	token := mustCreateSession(t, s, "Ana", time.Hour)
	after := time.Now()
	if len(token) != 22 {
		t.Errorf("CreateSession() = token %q of %d characters, want 22 (128 bits in base64url)", token, len(token))
	}
	got, err := s.Session(ctx, token)
	if err != nil {
		t.Fatalf("Session(token) = %v, want Ana's session", err)
	}
	if got.Nick != "Ana" {
		t.Errorf("Session(token).Nick = %q, want %q", got.Nick, "Ana")
	}
	checkTime(t, "Session(token).CreatedAt", got.CreatedAt, before, after)
	checkTime(t, "Session(token).ExpiresAt", got.ExpiresAt, before.Add(time.Hour), after.Add(time.Hour))

	other := mustCreateSession(t, s, "bob", time.Hour)
	if other == token {
		t.Errorf("CreateSession() twice = the same token %q, want a new one each time", token)
	}
	if got, err := s.Session(ctx, other); err != nil || got.Nick != "bob" {
		t.Errorf("Session(bob's token) = %+v, %v; want bob's session", got, err)
	}
	for _, bad := range []string{"", "aaaa", token + "x", token[:21]} {
		if _, err := s.Session(ctx, bad); parley.CodeOf(err) != "invalid_session" || parley.KindOf(err) != parley.Unauthenticated {
			t.Errorf("Session(%q) = %v, want Unauthenticated invalid_session", bad, err)
		}
	}
}

func testSessionNicknameTaken(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	ctx := t.Context()
	token := mustCreateSession(t, s, "Ana", time.Hour)
	for _, nick := range []string{"Ana", "ana", "ANA"} {
		if _, err := s.CreateSession(ctx, nick, time.Hour); parley.CodeOf(err) != "nickname_taken" || parley.KindOf(err) != parley.Conflict {
			t.Errorf("CreateSession(%q) while Ana's session lasts = %v, want Conflict nickname_taken", nick, err)
		}
	}
	if got, err := s.Session(ctx, token); err != nil || got.Nick != "Ana" {
		t.Errorf("Session(Ana's token) after refused sessions = %+v, %v; want Ana's session", got, err)
	}
	for _, nick := range []string{"", " ana", "a\tb"} {
		if _, err := s.CreateSession(ctx, nick, time.Hour); parley.KindOf(err) != parley.Invalid {
			t.Errorf("CreateSession(%q) = %v, want Invalid", nick, err)
		}
	}
}

func testSessionEnd(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	ctx := t.Context()
	token := mustCreateSession(t, s, "ana", time.Hour)
	bob := mustCreateSession(t, s, "bob", time.Hour)
	if err := s.EndSession(ctx, token); err != nil {
		t.Fatalf("EndSession() = %v", err)
	}
	if _, err := s.Session(ctx, token); parley.CodeOf(err) != "invalid_session" {
		t.Errorf("Session() after EndSession = %v, want invalid_session", err)
	}
	if err := s.ExtendSession(ctx, token, time.Hour); parley.CodeOf(err) != "invalid_session" {
		t.Errorf("ExtendSession() after EndSession = %v, want invalid_session", err)
	}
	// The nickname is free at once.
	again := mustCreateSession(t, s, "Ana", time.Hour)
	if got, err := s.Session(ctx, again); err != nil || got.Nick != "Ana" {
		t.Errorf("Session(new token) = %+v, %v; want Ana's new session", got, err)
	}
	for _, tok := range []string{token, "unknown"} {
		if err := s.EndSession(ctx, tok); err != nil {
			t.Errorf("EndSession(%q) of no session = %v, want nil", tok, err)
		}
	}
	if got, err := s.Session(ctx, bob); err != nil || got.Nick != "bob" {
		t.Errorf("Session(bob's token) after ending others = %+v, %v; want bob's session", got, err)
	}
}

func testSessionExpiry(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	ctx := t.Context()
	// A session whose time is up is no session: it needs no waiting to
	// check, as one made with a negative ttl has expired already.
	expired := mustCreateSession(t, s, "ana", -time.Minute)
	if _, err := s.Session(ctx, expired); parley.CodeOf(err) != "invalid_session" {
		t.Errorf("Session() of an expired session = %v, want invalid_session", err)
	}
	if err := s.ExtendSession(ctx, expired, time.Hour); parley.CodeOf(err) != "invalid_session" {
		t.Errorf("ExtendSession() of an expired session = %v, want invalid_session", err)
	}
	// Its nickname is free.
	token := mustCreateSession(t, s, "ANA", time.Minute)
	if got, err := s.Session(ctx, token); err != nil || got.Nick != "ANA" {
		t.Fatalf("Session(new token) = %+v, %v; want ANA's session", got, err)
	}

	before := time.Now()
	if err := s.ExtendSession(ctx, token, 48*time.Hour); err != nil {
		t.Fatalf("ExtendSession() = %v", err)
	}
	after := time.Now()
	got, err := s.Session(ctx, token)
	if err != nil {
		t.Fatalf("Session() after ExtendSession = %v", err)
	}
	checkTime(t, "Session().ExpiresAt after ExtendSession(48h)", got.ExpiresAt, before.Add(48*time.Hour), after.Add(48*time.Hour))
	if err := s.ExtendSession(ctx, "unknown", time.Hour); parley.CodeOf(err) != "invalid_session" {
		t.Errorf("ExtendSession(unknown) = %v, want invalid_session", err)
	}
}

// testSessionConcurrent has many people ask for one nickname at once: one
// gets it.
func testSessionConcurrent(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	tokens := make([]string, n)
	for i := range n {
		wg.Go(func() {
			nick := "ana"
			if i%2 == 1 {
				nick = "Ana"
			}
			tokens[i], errs[i] = s.CreateSession(t.Context(), nick, time.Hour)
		})
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
			if _, err := s.Session(t.Context(), tokens[i]); err != nil {
				t.Errorf("Session() of the session that won = %v", err)
			}
		case parley.CodeOf(err) != "nickname_taken":
			t.Errorf("CreateSession() = %v, want nil or nickname_taken", err)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d concurrent CreateSession(ana) succeeded, want 1", won, n)
	}
}

func testSessionReopen(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	token := mustCreateSession(t, s, "ana", time.Hour)
	ended := mustCreateSession(t, s, "bob", time.Hour)
	if err := s.EndSession(t.Context(), ended); err != nil {
		t.Fatalf("EndSession() = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	s = mustOpen(t, open)
	if got, err := s.Session(t.Context(), token); err != nil || got.Nick != "ana" {
		t.Errorf("Session() after reopening = %+v, %v; want ana's session", got, err)
	}
	if _, err := s.Session(t.Context(), ended); parley.CodeOf(err) != "invalid_session" {
		t.Errorf("Session() of an ended session after reopening = %v, want invalid_session", err)
	}
	if _, err := s.CreateSession(t.Context(), "ANA", time.Hour); parley.CodeOf(err) != "nickname_taken" {
		t.Errorf("CreateSession(ANA) after reopening = %v, want nickname_taken", err)
	}
}

func mustCreateSession(t testing.TB, s parley.Store, nick string, ttl time.Duration) string {
	t.Helper()
	token, err := s.CreateSession(t.Context(), nick, ttl)
	if err != nil {
		t.Fatalf("CreateSession(%q, %v) = %v", nick, ttl, err)
	}
	return token
}
