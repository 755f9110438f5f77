package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/httpapi"
	"github.com/parley-chat/parley/protocol"
)

// cheapPasswords are password costs that keep tests fast; the format and
// every check are those of the real ones.
var cheapPasswords = parley.PasswordParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// call makes a request to ts with a JSON body (nil for none) and headers,
// and returns the response with its body read.
func (ts *testServer) call(t *testing.T, method, path string, body any, header http.Header) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, ts.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := ts.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s = %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

// expect checks a response's status and, for an error, its code.
func expect(t *testing.T, what string, resp *http.Response, body []byte, status int, code string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s: status %d %s, want %d", what, resp.StatusCode, body, status)
	}
	if code == "" {
		return
	}
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code != code || e.Error.Message == "" {
		t.Fatalf("%s: body %s, want error code %q with a message", what, body, code)
	}
}

// signUp makes an account and returns the header that carries its
// session's cookie.
func (ts *testServer) signUp(t *testing.T, name, password string) http.Header {
	t.Helper()
	resp, body := ts.call(t, "POST", "/api/accounts", map[string]string{"name": name, "password": password}, nil)
	expect(t, "sign up "+name, resp, body, http.StatusCreated, "")
	return cookieHeader(t, resp)
}

// signIn signs in and returns the header that carries the session's
// cookie.
func (ts *testServer) signIn(t *testing.T, name, password string) http.Header {
	t.Helper()
	resp, body := ts.call(t, "POST", "/api/sessions", map[string]string{"name": name, "password": password}, nil)
	expect(t, "sign in "+name, resp, body, http.StatusCreated, "")
	return cookieHeader(t, resp)
}

func cookieHeader(t *testing.T, resp *http.Response) http.Header {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == "parley_session" {
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge <= 0 || c.Value == "" {
				t.Errorf("session cookie = %+v, want HttpOnly, SameSite=Lax, Path=/, a Max-Age", c)
			}
			return http.Header{"Cookie": {c.Name + "=" + c.Value}}
		}
	}
	t.Fatalf("no session cookie in %v", resp.Header["Set-Cookie"])
	return nil
}

func accountServer(t *testing.T, opts httpapi.Options) *testServer {
	opts.PasswordParams = cheapPasswords
	opts.Signup = true
	return newTestServer(t, serverConfig{opts: opts})
}

func TestSignUpSignInSignOut(t *testing.T) {
	ts := accountServer(t, httpapi.Options{})
	var info struct{ Guests, Signup, Setup bool }
	resp, body := ts.call(t, "GET", "/api/server", nil, nil)
	expect(t, "GET /api/server", resp, body, 200, "")
	if json.Unmarshal(body, &info); !info.Setup || !info.Signup || !info.Guests {
		t.Errorf("GET /api/server on a new server = %s, want setup, signup and guests", body)
	}

	ana := ts.signUp(t, "Ana", "correct horse")
	var me struct {
		Name    string
		Kind    string
		Account struct {
			Name        string
			DisplayName string
			Admin       bool
		}
	}
	resp, body = ts.call(t, "GET", "/api/account", nil, ana)
	expect(t, "GET /api/account", resp, body, 200, "")
	if json.Unmarshal(body, &me); me.Name != "Ana" || me.Kind != "account" || !me.Account.Admin {
		t.Errorf("GET /api/account of the first account = %s, want Ana, an admin", body)
	}
	if _, body = ts.call(t, "GET", "/api/server", nil, nil); !strings.Contains(string(body), `"setup":false`) {
		t.Errorf("GET /api/server after the first account = %s, want setup false", body)
	}
	bob := ts.signUp(t, "bob", "battery staple")
	_, body = ts.call(t, "GET", "/api/account", nil, bob)
	if json.Unmarshal(body, &me); me.Name != "bob" || me.Account.Admin {
		t.Errorf("GET /api/account of the second account = %s, want bob, no admin", body)
	}

	// Names are one namespace, whatever their case or look.
	for _, name := range []string{"ana", "\u0430na", "BOB"} {
		resp, body := ts.call(t, "POST", "/api/accounts", map[string]string{"name": name, "password": "12345678"}, nil)
		expect(t, "sign up as "+name, resp, body, http.StatusConflict, "nickname_taken")
	}
	c := mustDial(t, ts)
	c.writeJSON(map[string]any{"type": "hello", "v": 1, "nick": "ANA"})
	c.waitFor("nickname_taken", func(e event) bool { return e.Type == "error" && e.Code == "nickname_taken" })

	// Sign out: the cookie goes, and the session with it.
	resp, body = ts.call(t, "DELETE", "/api/sessions/current", nil, ana)
	expect(t, "sign out", resp, body, http.StatusNoContent, "")
	if sc := resp.Header.Get("Set-Cookie"); !strings.Contains(sc, "parley_session=;") || !strings.Contains(sc, "Max-Age=0") {
		t.Errorf("sign-out Set-Cookie = %q, want the cookie cleared", sc)
	}
	resp, body = ts.call(t, "GET", "/api/account", nil, ana)
	expect(t, "GET /api/account after sign-out", resp, body, http.StatusUnauthorized, "invalid_session")
	resp, body = ts.call(t, "GET", "/api/account", nil, nil)
	expect(t, "GET /api/account without a session", resp, body, http.StatusUnauthorized, "unauthenticated")

	// Signing in again; wrong passwords and unknown names answer alike.
	ts.signIn(t, "ANA", "correct horse")
	wrong, wrongBody := ts.call(t, "POST", "/api/sessions", map[string]string{"name": "ana", "password": "wrong horse"}, nil)
	expect(t, "sign in with a wrong password", wrong, wrongBody, http.StatusUnauthorized, "invalid_credentials")
	unknown, unknownBody := ts.call(t, "POST", "/api/sessions", map[string]string{"name": "nobody", "password": "wrong horse"}, nil)
	expect(t, "sign in as nobody", unknown, unknownBody, http.StatusUnauthorized, "invalid_credentials")
	if !bytes.Equal(wrongBody, unknownBody) {
		t.Errorf("sign-in answers differ: %s for a wrong password, %s for no account", wrongBody, unknownBody)
	}
}

func TestSignUpRefusesBadInput(t *testing.T) {
	ts := accountServer(t, httpapi.Options{})
	for _, tt := range []struct {
		body any
		code string
	}{
		{map[string]string{"name": "ana", "password": "short"}, "invalid_password"},
		{map[string]string{"name": " ana", "password": "12345678"}, "invalid_nick"},
		{map[string]string{"name": "ana", "password": "12345678", "displayName": "a\u202eb"}, "invalid_display_name"},
		{map[string]any{"name": "ana", "password": 12345678}, "invalid"},
		{map[string]string{"name": "ana", "password": "12345678", "admin": "true"}, "invalid"},
	} {
		resp, body := ts.call(t, "POST", "/api/accounts", tt.body, nil)
		expect(t, "sign up with "+tt.code, resp, body, http.StatusBadRequest, tt.code)
	}
	req, _ := http.NewRequest("POST", ts.URL+"/api/accounts", strings.NewReader(`{"name":"ana","password":"12345678"}`))
	req.Header.Set("Content-Type", "text/plain")
	resp, err := ts.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("sign-up sent as text/plain = %d, want 400", resp.StatusCode)
	}
	if has, _ := ts.store.HasAccounts(t.Context()); has {
		t.Error("an account exists after refused sign-ups")
	}
}

func TestSignupClosed(t *testing.T) {
	ts := newTestServer(t, serverConfig{opts: httpapi.Options{PasswordParams: cheapPasswords}})
	if _, body := ts.call(t, "GET", "/api/server", nil, nil); !strings.Contains(string(body), `"signup":true`) {
		t.Errorf("GET /api/server with no account = %s, want signup true: the first visitor makes the admin", body)
	}
	ts.signUp(t, "root", "correct horse")
	resp, body := ts.call(t, "POST", "/api/accounts", map[string]string{"name": "eve", "password": "12345678"}, nil)
	expect(t, "a second sign-up", resp, body, http.StatusForbidden, "signup_closed")
	if _, body := ts.call(t, "GET", "/api/server", nil, nil); !strings.Contains(string(body), `"signup":false`) {
		t.Errorf("GET /api/server after the first account = %s, want signup false", body)
	}
}

func TestCrossSiteRequestsRefused(t *testing.T) {
	ts := accountServer(t, httpapi.Options{})
	ana := ts.signUp(t, "ana", "correct horse")
	evil := http.Header{"Origin": {"https://evil.example"}, "Cookie": ana["Cookie"]}
	for _, c := range []struct{ method, path string }{
		{"POST", "/api/sessions"}, {"POST", "/api/accounts"}, {"DELETE", "/api/sessions/current"}, {"POST", "/api/tokens"},
	} {
		resp, body := ts.call(t, c.method, c.path, map[string]string{}, evil)
		expect(t, c.method+" "+c.path+" from another site", resp, body, http.StatusForbidden, "bad_origin")
	}
	resp, body := ts.call(t, "GET", "/api/account", nil, ana)
	expect(t, "GET /api/account after the cross-site attempts", resp, body, 200, "")
	own := http.Header{"Origin": {ts.URL}, "Cookie": ana["Cookie"]}
	resp, body = ts.call(t, "DELETE", "/api/sessions/current", nil, own)
	expect(t, "sign-out from the server's own page", resp, body, http.StatusNoContent, "")
}

func TestSignInThrottled(t *testing.T) {
	clock := newFakeClock()
	ts := accountServer(t, httpapi.Options{Clock: clock})
	ts.signUp(t, "ana", "correct horse")
	wrong := map[string]string{"name": "ana", "password": "wrong horse"}
	for range 5 {
		resp, body := ts.call(t, "POST", "/api/sessions", wrong, nil)
		expect(t, "a wrong password", resp, body, http.StatusUnauthorized, "invalid_credentials")
	}
	// The sixth waits a second after the fifth, the seventh two after the
	// sixth, whatever the password and the case of the name.
	retryAfter := func(want string, password string) {
		t.Helper()
		resp, body := ts.call(t, "POST", "/api/sessions", map[string]string{"name": "ANA", "password": password}, nil)
		expect(t, "an attempt within the delay", resp, body, http.StatusTooManyRequests, "rate_limited")
		if ra := resp.Header.Get("Retry-After"); ra != want {
			t.Errorf("Retry-After = %q, want %s", ra, want)
		}
	}
	retryAfter("1", "wrong horse")
	clock.Advance(time.Second)
	resp, body := ts.call(t, "POST", "/api/sessions", wrong, nil)
	expect(t, "a sixth attempt a second later", resp, body, http.StatusUnauthorized, "invalid_credentials")
	retryAfter("2", "wrong horse")
	retryAfter("2", "correct horse")
	clock.Advance(2 * time.Second)
	ts.signIn(t, "ana", "correct horse")
	// Success forgets the account's failures.
	resp, body = ts.call(t, "POST", "/api/sessions", wrong, nil)
	expect(t, "a wrong password after success", resp, body, http.StatusUnauthorized, "invalid_credentials")
}

func TestSessionsListRevokeAndPassword(t *testing.T) {
	ts := accountServer(t, httpapi.Options{})
	laptop := ts.signUp(t, "ana", "correct horse")
	phone := ts.signIn(t, "ana", "correct horse")
	bob := ts.signUp(t, "bob", "battery staple")

	socket := func(h http.Header) *client {
		t.Helper()
		conn, _, err := dial(ts, h)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		c := &client{t: t, conn: conn}
		c.writeJSON(map[string]any{"type": "hello", "v": 1})
		e := c.waitFor("welcome", func(e event) bool { return e.Type == "welcome" || e.Type == "error" })
		if e.Type != "welcome" || e.Kind != "account" || e.Session != "" {
			t.Fatalf("hello with a cookie = %s, want welcome of an account's session, no token shown", e.raw)
		}
		return c
	}
	onLaptop, onPhone, bobs := socket(laptop), socket(phone), socket(bob)

	var list struct {
		Sessions []struct {
			ID      string
			Kind    string
			Current bool
		}
	}
	resp, body := ts.call(t, "GET", "/api/sessions", nil, laptop)
	expect(t, "GET /api/sessions", resp, body, 200, "")
	json.Unmarshal(body, &list)
	var phoneID string
	for _, s := range list.Sessions {
		if !s.Current {
			phoneID = s.ID
		}
	}
	if len(list.Sessions) != 2 || phoneID == "" {
		t.Fatalf("GET /api/sessions = %s, want the laptop's (current) and the phone's", body)
	}
	resp, body = ts.call(t, "DELETE", "/api/sessions/"+phoneID, nil, bob)
	expect(t, "bob revokes ana's session", resp, body, http.StatusNotFound, "not_found")

	// Revoking the phone's session closes its socket, and no other.
	resp, body = ts.call(t, "DELETE", "/api/sessions/"+phoneID, nil, laptop)
	expect(t, "revoke the phone", resp, body, http.StatusNoContent, "")
	onPhone.waitClose(protocol.CloseNormal)
	resp, body = ts.call(t, "GET", "/api/account", nil, phone)
	expect(t, "the phone after revocation", resp, body, http.StatusUnauthorized, "invalid_session")
	onLaptop.writeJSON(map[string]any{"type": "ping"})
	onLaptop.waitFor("pong", func(e event) bool { return e.Type == "pong" })

	// A new password ends every other session: the bot's token too.
	resp, body = ts.call(t, "POST", "/api/tokens", map[string]string{"label": "ci bot"}, laptop)
	expect(t, "create a token", resp, body, http.StatusCreated, "")
	var made struct{ Token string }
	json.Unmarshal(body, &made)
	botHeader := http.Header{"Authorization": {"Bearer " + made.Token}}
	resp, body = ts.call(t, "GET", "/api/account", nil, botHeader)
	if expect(t, "the bot's GET /api/account", resp, body, 200, ""); !strings.Contains(string(body), `"kind":"token"`) {
		t.Errorf("the bot's GET /api/account = %s, want kind token", body)
	}
	resp, body = ts.call(t, "POST", "/api/tokens", map[string]string{}, botHeader)
	expect(t, "a token makes a token", resp, body, http.StatusForbidden, "account_required")
	second := ts.signIn(t, "ana", "correct horse")
	onSecond := socket(second)
	resp, body = ts.call(t, "POST", "/api/account/password", map[string]string{"current": "wrong horse", "new": "new password"}, laptop)
	expect(t, "a new password with a wrong current one", resp, body, http.StatusForbidden, "invalid_credentials")
	resp, body = ts.call(t, "POST", "/api/account/password", map[string]string{"current": "correct horse", "new": "new password"}, laptop)
	expect(t, "a new password", resp, body, 200, "")
	onSecond.waitClose(protocol.CloseNormal)
	for _, h := range []http.Header{second, botHeader} {
		resp, body = ts.call(t, "GET", "/api/account", nil, h)
		expect(t, "a session after the password changed", resp, body, http.StatusUnauthorized, "invalid_session")
	}
	resp, body = ts.call(t, "GET", "/api/account", nil, laptop)
	expect(t, "the session that changed the password", resp, body, 200, "")
	ts.signIn(t, "ana", "new password")

	// An admin deactivates bob: his socket closes, and he cannot sign in.
	resp, body = ts.call(t, "PATCH", "/api/accounts/ana", map[string]bool{"active": false}, bob)
	expect(t, "bob, no admin, deactivates ana", resp, body, http.StatusNotFound, "not_found")
	resp, body = ts.call(t, "PATCH", "/api/accounts/BOB", map[string]bool{"active": false}, laptop)
	expect(t, "ana deactivates bob", resp, body, 200, "")
	bobs.waitClose(protocol.CloseNormal)
	resp, body = ts.call(t, "POST", "/api/sessions", map[string]string{"name": "bob", "password": "battery staple"}, nil)
	expect(t, "bob signs in, deactivated", resp, body, http.StatusUnauthorized, "invalid_credentials")
	resp, body = ts.call(t, "PATCH", "/api/accounts/ana", map[string]bool{"admin": false}, laptop)
	expect(t, "ana demotes herself", resp, body, http.StatusBadRequest, "invalid")
}

func TestBearerTokenOnTheWebSocket(t *testing.T) {
	ts := accountServer(t, httpapi.Options{})
	ana := ts.signUp(t, "ana", "correct horse")
	resp, body := ts.call(t, "POST", "/api/tokens", map[string]string{"label": "bot", "expiresIn": "1h"}, ana)
	expect(t, "create a token", resp, body, http.StatusCreated, "")
	var made struct {
		Token   string
		Session struct{ ExpiresAt time.Time }
	}
	json.Unmarshal(body, &made)
	if d := time.Until(made.Session.ExpiresAt); d < 59*time.Minute || d > time.Hour {
		t.Errorf("token expires in %v, want 1h", d)
	}
	for _, bad := range []string{"forever", "1s", "100000h"} {
		resp, body := ts.call(t, "POST", "/api/tokens", map[string]string{"expiresIn": bad}, ana)
		expect(t, "a token that expires in "+bad, resp, body, http.StatusBadRequest, "invalid")
	}
	conn, _, err := dial(ts, http.Header{"Authorization": {"Bearer " + made.Token}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &client{t: t, conn: conn}
	c.writeJSON(map[string]any{"type": "hello", "v": 1})
	e := c.waitFor("welcome", func(e event) bool { return e.Type == "welcome" })
	if e.Nick != "ana" || e.Kind != "token" || e.Session != "" {
		t.Errorf("hello with a bearer token = %s, want ana's token, not shown", e.raw)
	}
	// A token presented in hello works too, and is told back.
	c2 := mustDial(t, ts)
	if e := c2.hello("", made.Token); e.Kind != "token" || e.Session != made.Token {
		t.Errorf("hello with a token in the frame = %s", e.raw)
	}
}

func TestGuestsAndAccounts(t *testing.T) {
	ts := newTestServer(t, serverConfig{noGuests: true, opts: httpapi.Options{PasswordParams: cheapPasswords, Signup: true}})
	ana := ts.signUp(t, "ana", "correct horse")
	c := mustDial(t, ts)
	c.writeJSON(map[string]any{"type": "hello", "v": 1, "nick": "zed"})
	c.waitFor("guests_disabled", func(e event) bool { return e.Type == "error" && e.Code == "guests_disabled" })
	conn, _, err := dial(ts, ana)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	signed := &client{t: t, conn: conn}
	if e := signed.hello("", ""); e.Nick != "ana" {
		t.Errorf("hello with a cookie on a server without guests = %s, want ana", e.raw)
	}

	// With guests, a guest's session reads who it is, but cannot do what
	// needs an account.
	ts = accountServer(t, httpapi.Options{})
	g := mustGreet(t, ts, "zed")
	var token string
	for _, e := range g.seen {
		if e.Type == "welcome" {
			token = e.Session
		}
	}
	guest := http.Header{"Authorization": {"Bearer " + token}}
	resp, body := ts.call(t, "GET", "/api/account", nil, guest)
	if expect(t, "a guest's GET /api/account", resp, body, 200, ""); !strings.Contains(string(body), `"kind":"guest"`) {
		t.Errorf("a guest's GET /api/account = %s, want kind guest", body)
	}
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/sessions", nil}, {"POST", "/api/tokens", map[string]string{}},
		{"PATCH", "/api/account", map[string]string{"displayName": "Z"}},
		{"POST", "/api/account/password", map[string]string{"current": "x", "new": "12345678"}},
	} {
		resp, body := ts.call(t, c.method, c.path, c.body, guest)
		expect(t, "a guest's "+c.method+" "+c.path, resp, body, http.StatusForbidden, "account_required")
	}
	resp, body = ts.call(t, "POST", "/api/accounts", map[string]string{"name": "ZED", "password": "12345678"}, nil)
	expect(t, "sign up as a guest's nickname", resp, body, http.StatusConflict, "nickname_taken")
	resp, body = ts.call(t, "DELETE", "/api/sessions/current", nil, guest)
	expect(t, "a guest signs out over REST", resp, body, http.StatusNoContent, "")
	g.waitClose(protocol.CloseNormal)
	ts.signUp(t, "zed", "12345678")
}
