package storetest

import (
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// testHash is a password hash made with tiny costs, which stores keep as
// they get it.
var testHash = parley.HashPassword("password", parley.PasswordParams{Memory: 8, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16})

func newAccount(name string) *parley.Account {
	return &parley.Account{Name: name, DisplayName: "The " + name, PasswordHash: testHash}
}

func testAccount(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	ctx := t.Context()
	if has, err := s.HasAccounts(ctx); has || err != nil {
		t.Errorf("HasAccounts() of a new store = %v, %v; want false", has, err)
	}
	before := time.Now()
	a := newAccount("Ana")
	a.Admin = true
	if err := s.CreateAccount(ctx, a); err != nil {
		t.Fatalf("CreateAccount(Ana) = %v", err)
	}
	after := time.Now()
	checkTime(t, "CreateAccount().CreatedAt", a.CreatedAt, before, after)
	if has, err := s.HasAccounts(ctx); !has || err != nil {
		t.Errorf("HasAccounts() with an account = %v, %v; want true", has, err)
	}
	for _, name := range []string{"Ana", "ana", "ANA", "\u0430na"} {
		got, err := s.Account(ctx, name)
		if err != nil {
			t.Fatalf("Account(%q) = %v, want Ana's account", name, err)
		}
		if got.Name != "Ana" || got.DisplayName != "The Ana" || !got.Admin || got.PasswordHash != testHash ||
			!got.CreatedAt.Equal(a.CreatedAt) || !got.Deactivated.IsZero() {
			t.Errorf("Account(%q) = %+v, want %+v", name, got, a)
		}
	}
	if _, err := s.Account(ctx, "bob"); parley.KindOf(err) != parley.NotFound {
		t.Errorf("Account(bob) = %v, want NotFound", err)
	}
	for _, name := range []string{"ana", "\u0430na", "АNА"} {
		if err := s.CreateAccount(ctx, newAccount(name)); parley.CodeOf(err) != parley.CodeNicknameTaken {
			t.Errorf("CreateAccount(%q) beside Ana = %v, want nickname_taken", name, err)
		}
	}
	for _, bad := range []*parley.Account{{Name: "", PasswordHash: testHash}, {Name: "x"}, {Name: "x", DisplayName: " x", PasswordHash: testHash}} {
		if err := s.CreateAccount(ctx, bad); parley.KindOf(err) != parley.Invalid {
			t.Errorf("CreateAccount(%+v) = %v, want Invalid", bad, err)
		}
	}
}

// testAccountNamespace: account names and guests' nicknames are one
// namespace, under NickKey.
func testAccountNamespace(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	ctx := t.Context()
	mustCreateAccount(t, s, "bob")
	for _, nick := range []string{"bob", "BOB", "b0b"} {
		if _, err := s.CreateSession(ctx, nick, time.Hour); parley.CodeOf(err) != parley.CodeNicknameTaken {
			t.Errorf("CreateSession(%q) beside account bob = %v, want nickname_taken", nick, err)
		}
	}
	mustCreateSession(t, s, "carol", time.Hour)
	if err := s.CreateAccount(ctx, newAccount("Carol")); parley.CodeOf(err) != parley.CodeNicknameTaken {
		t.Errorf("CreateAccount(Carol) while guest carol's session lasts = %v, want nickname_taken", err)
	}
	// A guest's expired session holds nothing: its name can become an
	// account, and the old session is gone.
	old := mustCreateSession(t, s, "dave", -time.Minute)
	mustCreateAccount(t, s, "Dave")
	if _, err := s.Session(ctx, old); parley.CodeOf(err) != parley.CodeInvalidSession {
		t.Errorf("Session(expired guest dave) after account Dave = %v, want invalid_session", err)
	}
	if _, err := s.CreateSession(ctx, "dave", time.Hour); parley.CodeOf(err) != parley.CodeNicknameTaken {
		t.Errorf("CreateSession(dave) beside account Dave = %v, want nickname_taken", err)
	}
}

func testAccountSessions(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	ctx := t.Context()
	mustCreateAccount(t, s, "ana")
	mustCreateAccount(t, s, "bob")

	before := time.Now()
	browser := mustCreateAccountSession(t, s, "ANA", parley.SessionAccount, "Firefox on Linux", time.Hour)
	after := time.Now()
	bot := mustCreateAccountSession(t, s, "ana", parley.SessionToken, "deploy bot", 24*time.Hour)
	bobs := mustCreateAccountSession(t, s, "bob", parley.SessionAccount, "", time.Hour)
	if browser == bot {
		t.Fatal("CreateAccountSession() twice = one token")
	}

	got, err := s.Session(ctx, browser)
	if err != nil {
		t.Fatalf("Session(ana's browser) = %v", err)
	}
	want := parley.Session{ID: parley.HashToken(browser), Nick: "ana", Kind: parley.SessionAccount, Label: "Firefox on Linux"}
	if got.ID != want.ID || got.Nick != want.Nick || got.Kind != want.Kind || got.Label != want.Label || got.Admin {
		t.Errorf("Session(ana's browser) = %+v, want %+v", got, want)
	}
	checkTime(t, "Session().CreatedAt", got.CreatedAt, before, after)
	checkTime(t, "Session().ExpiresAt", got.ExpiresAt, before.Add(time.Hour), after.Add(time.Hour))
	if g, err := s.Session(ctx, bot); err != nil || g.Kind != parley.SessionToken || g.Label != "deploy bot" {
		t.Errorf("Session(ana's bot) = %+v, %v; want a token labelled deploy bot", g, err)
	}
	guest := mustCreateSession(t, s, "carol", time.Hour)
	if g, err := s.Session(ctx, guest); err != nil || g.Kind != parley.SessionGuest || g.ID != parley.HashToken(guest) {
		t.Errorf("Session(guest carol) = %+v, %v; want a guest's session", g, err)
	}

	list, err := s.AccountSessions(ctx, "Ana")
	if err != nil {
		t.Fatalf("AccountSessions(Ana) = %v", err)
	}
	ids := func(ss []*parley.Session) []string {
		var out []string
		for _, x := range ss {
			out = append(out, x.ID)
		}
		return out
	}
	got2, want2 := ids(list), []string{parley.HashToken(bot), parley.HashToken(browser)}
	slices.Sort(got2)
	slices.Sort(want2)
	if !slices.Equal(got2, want2) {
		t.Errorf("AccountSessions(ana) = %v, want %v", got2, want2)
	}
	if !slices.IsSortedFunc(list, func(a, b *parley.Session) int { return b.CreatedAt.Compare(a.CreatedAt) }) {
		t.Errorf("AccountSessions(ana) = %v, want the newest first", list)
	}
	if list, err := s.AccountSessions(ctx, "nobody"); len(list) != 0 || err != nil {
		t.Errorf("AccountSessions(nobody) = %v, %v; want none", list, err)
	}

	for _, tt := range []struct{ name, kind string }{{"nobody", string(parley.SessionAccount)}, {"carol", string(parley.SessionToken)}} {
		if _, err := s.CreateAccountSession(ctx, tt.name, parley.SessionKind(tt.kind), "", time.Hour); parley.KindOf(err) != parley.NotFound {
			t.Errorf("CreateAccountSession(%s, no account) = %v, want NotFound", tt.name, err)
		}
	}

	// One may end only one's own sessions.
	if err := s.EndAccountSession(ctx, "bob", parley.HashToken(bot)); parley.KindOf(err) != parley.NotFound {
		t.Errorf("EndAccountSession(bob, ana's bot) = %v, want NotFound", err)
	}
	if _, err := s.Session(ctx, bot); err != nil {
		t.Errorf("Session(ana's bot) after bob tried to end it = %v", err)
	}
	if err := s.EndAccountSession(ctx, "ana", parley.HashToken(bot)); err != nil {
		t.Errorf("EndAccountSession(ana, her bot) = %v", err)
	}
	if _, err := s.Session(ctx, bot); parley.CodeOf(err) != parley.CodeInvalidSession {
		t.Errorf("Session(ana's bot) after ending it = %v, want invalid_session", err)
	}
	if err := s.EndAccountSession(ctx, "ana", parley.HashToken(bot)); parley.KindOf(err) != parley.NotFound {
		t.Errorf("EndAccountSession(ana's ended bot) = %v, want NotFound", err)
	}
	if _, err := s.Session(ctx, bobs); err != nil {
		t.Errorf("Session(bob's) after ana's changes = %v", err)
	}
}

func testAccountUpdate(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	ctx := t.Context()
	mustCreateAccount(t, s, "ana")
	mustCreateAccount(t, s, "bob")
	one := mustCreateAccountSession(t, s, "ana", parley.SessionAccount, "one", time.Hour)
	two := mustCreateAccountSession(t, s, "ana", parley.SessionAccount, "two", time.Hour)
	bot := mustCreateAccountSession(t, s, "ana", parley.SessionToken, "bot", time.Hour)
	bobs := mustCreateAccountSession(t, s, "bob", parley.SessionAccount, "", time.Hour)

	name, admin := "Ana Lima", true
	if ended, err := s.UpdateAccount(ctx, "ANA", parley.AccountUpdate{DisplayName: &name, Admin: &admin}); err != nil || len(ended) != 0 {
		t.Fatalf("UpdateAccount(display name, admin) = %v, %v; want no session ended", ended, err)
	}
	if a, err := s.Account(ctx, "ana"); err != nil || a.DisplayName != "Ana Lima" || !a.Admin || a.PasswordHash != testHash {
		t.Errorf("Account(ana) after update = %+v, %v", a, err)
	}
	if got, err := s.Session(ctx, one); err != nil || !got.Admin {
		t.Errorf("Session(ana's) after she became admin = %+v, %v; want Admin", got, err)
	}

	// A new password ends every session but the one kept.
	hash := parley.HashPassword("new password", parley.PasswordParams{Memory: 8, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16})
	ended, err := s.UpdateAccount(ctx, "ana", parley.AccountUpdate{PasswordHash: &hash, Keep: parley.HashToken(one)})
	if err != nil {
		t.Fatalf("UpdateAccount(password) = %v", err)
	}
	slices.Sort(ended)
	want := []string{parley.HashToken(two), parley.HashToken(bot)}
	slices.Sort(want)
	if !slices.Equal(ended, want) {
		t.Errorf("UpdateAccount(password, keep one) ended %v, want %v", ended, want)
	}
	for _, token := range []string{two, bot} {
		if _, err := s.Session(ctx, token); parley.CodeOf(err) != parley.CodeInvalidSession {
			t.Errorf("Session() of a session ended by a new password = %v, want invalid_session", err)
		}
	}
	if _, err := s.Session(ctx, one); err != nil {
		t.Errorf("Session() of the session kept = %v", err)
	}
	if a, _ := s.Account(ctx, "ana"); a == nil || a.PasswordHash != hash {
		t.Errorf("Account(ana).PasswordHash after update = %+v, want the new hash", a)
	}

	// Deactivating ends every session, and no new one starts.
	off, on := false, true
	before := time.Now()
	ended, err = s.UpdateAccount(ctx, "ana", parley.AccountUpdate{Active: &off})
	if err != nil || !slices.Equal(ended, []string{parley.HashToken(one)}) {
		t.Errorf("UpdateAccount(deactivate) = %v, %v; want the last session ended", ended, err)
	}
	after := time.Now()
	if a, err := s.Account(ctx, "ana"); err != nil || a.Deactivated.IsZero() {
		t.Errorf("Account(ana) after deactivation = %+v, %v; want Deactivated set", a, err)
	} else {
		checkTime(t, "Account().Deactivated", a.Deactivated, before, after)
	}
	if _, err := s.CreateAccountSession(ctx, "ana", parley.SessionAccount, "", time.Hour); parley.KindOf(err) != parley.NotFound {
		t.Errorf("CreateAccountSession(deactivated ana) = %v, want NotFound", err)
	}
	first, _ := s.Account(ctx, "ana")
	nextMillisecond() // stores keep milliseconds
	if _, err := s.UpdateAccount(ctx, "ana", parley.AccountUpdate{Active: &off}); err != nil {
		t.Errorf("UpdateAccount(deactivate again) = %v", err)
	}
	if again, _ := s.Account(ctx, "ana"); first == nil || again == nil || !again.Deactivated.Equal(first.Deactivated) {
		t.Errorf("Account(ana).Deactivated after deactivating twice = %+v, want the first time, %+v", again, first)
	}
	if _, err := s.CreateSession(ctx, "ana", time.Hour); parley.CodeOf(err) != parley.CodeNicknameTaken {
		t.Errorf("CreateSession(ana) beside deactivated account = %v, want nickname_taken: the name stays hers", err)
	}
	if _, err := s.UpdateAccount(ctx, "ana", parley.AccountUpdate{Active: &on}); err != nil {
		t.Errorf("UpdateAccount(reactivate) = %v", err)
	}
	if a, _ := s.Account(ctx, "ana"); a == nil || !a.Deactivated.IsZero() {
		t.Errorf("Account(ana) after reactivation = %+v, want Deactivated zero", a)
	}
	mustCreateAccountSession(t, s, "ana", parley.SessionAccount, "", time.Hour)
	if _, err := s.Session(ctx, bobs); err != nil {
		t.Errorf("Session(bob's) after ana's updates = %v", err)
	}

	if _, err := s.UpdateAccount(ctx, "nobody", parley.AccountUpdate{Admin: &admin}); parley.KindOf(err) != parley.NotFound {
		t.Errorf("UpdateAccount(nobody) = %v, want NotFound", err)
	}
	plain := "password"
	if _, err := s.UpdateAccount(ctx, "bob", parley.AccountUpdate{PasswordHash: &plain}); parley.KindOf(err) != parley.Invalid {
		t.Errorf("UpdateAccount(a password not hashed) = %v, want Invalid", err)
	}
	bad := " x"
	if _, err := s.UpdateAccount(ctx, "bob", parley.AccountUpdate{DisplayName: &bad}); parley.KindOf(err) != parley.Invalid {
		t.Errorf("UpdateAccount(bad display name) = %v, want Invalid", err)
	}
	if a, _ := s.Account(ctx, "bob"); a == nil || a.DisplayName != "The bob" {
		t.Errorf("Account(bob) after a refused update = %+v, want it unchanged", a)
	}
}

// testAccountConcurrent has people ask for one name at once, as accounts
// and as guests: one gets it.
func testAccountConcurrent(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			switch i % 3 {
			case 0:
				errs[i] = s.CreateAccount(t.Context(), newAccount("ana"))
			case 1:
				errs[i] = s.CreateAccount(t.Context(), newAccount("\u0430na"))
			default:
				_, errs[i] = s.CreateSession(t.Context(), "ANA", time.Hour)
			}
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case parley.CodeOf(err) != parley.CodeNicknameTaken:
			t.Errorf("CreateAccount() or CreateSession() = %v, want nil or nickname_taken", err)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d concurrent claims of ana succeeded, want 1", won, n)
	}
}

func testAccountReopen(t testing.TB, open OpenFunc) {
	s := mustOpen(t, open)
	mustCreateAccount(t, s, "ana")
	token := mustCreateAccountSession(t, s, "ana", parley.SessionToken, "bot", time.Hour)
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	s = mustOpen(t, open)
	if a, err := s.Account(t.Context(), "ana"); err != nil || a.PasswordHash != testHash {
		t.Errorf("Account(ana) after reopening = %+v, %v", a, err)
	}
	if got, err := s.Session(t.Context(), token); err != nil || got.Kind != parley.SessionToken || got.Label != "bot" {
		t.Errorf("Session(ana's bot) after reopening = %+v, %v", got, err)
	}
}

func mustCreateAccount(t testing.TB, s parley.Store, name string) {
	t.Helper()
	if err := s.CreateAccount(t.Context(), newAccount(name)); err != nil {
		t.Fatalf("CreateAccount(%q) = %v", name, err)
	}
}

func mustCreateAccountSession(t testing.TB, s parley.Store, name string, kind parley.SessionKind, label string, ttl time.Duration) string {
	t.Helper()
	token, err := s.CreateAccountSession(t.Context(), name, kind, label, ttl)
	if err != nil {
		t.Fatalf("CreateAccountSession(%q, %s) = %v", name, kind, err)
	}
	return token
}

// nextMillisecond returns once the clock has passed into a millisecond
// after the one current when it was called, so that what a store stamps
// next has another time.
func nextMillisecond() {
	for start := time.Now().Truncate(time.Millisecond); !time.Now().Truncate(time.Millisecond).After(start); {
		runtime.Gosched()
	}
}
