package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/redistest"
)

// command runs a command as main does, with stdin, and returns what it
// wrote to standard output, and its error.
func command(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(t.Context(), args, environment(nil), strings.NewReader(stdin), &out, io.Discard)
	return out.String(), err
}

// signIn signs in over REST and returns the session's cookie header.
func (s *server) signIn(t *testing.T, name, password string) (http.Header, int) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"name": name, "password": password})
	res, err := http.Post("http://"+s.addr+"/api/sessions", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for _, c := range res.Cookies() {
		if c.Name == "parley_session" {
			return http.Header{"Cookie": {c.Name + "=" + c.Value}}, res.StatusCode
		}
	}
	return nil, res.StatusCode
}

// TestAccountCommands makes accounts and a token from the command line,
// beside a running server that shares Redis: a reset password and a
// deactivation close the account's connections on the server at once.
func TestAccountCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Redis and the whole server")
	}
	redis := redistest.Start(t)
	dir := inDir(t, nil)
	db := filepath.Join(dir, "parley.db")
	s := startServer(t, db, "-redis-url", redis.URL(), "-guests=false")
	if !strings.Contains(s.logs.String(), "no account yet") {
		t.Errorf("the start-up log of a server without accounts does not say how to make the first:\n%s", s.logs)
	}

	out, err := command(t, "correct horse\n", "user", "add", "-database", db, "-admin", "-display-name", "Ana L.", "ana")
	if err != nil || !strings.Contains(out, "made the admin account ana") {
		t.Fatalf("parley user add -admin ana = %q, %v", out, err)
	}
	for _, tt := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"correct horse\n", []string{"user", "add", "-database", db, "ANA"}, "taken"},
		{"short\n", []string{"user", "add", "-database", db, "bob"}, "at least 8"},
		{"", []string{"user", "add", "-database", db, "bob"}, "standard input"},
		{"x\n", []string{"user", "add", "-database", db}, "needs the account's name"},
		{"x\n", []string{"user", "add", "-database", db, "bob", "cy"}, "one name"},
		{"x\n", []string{"user", "add", "-nonsense", "bob"}, "unknown flag"},
		{"", []string{"user", "deactivate", "-database", db, "nobody"}, "no account"},
		{"", []string{"user", "frobnicate", "ana"}, "subcommand"},
	} {
		if out, err := command(t, tt.stdin, tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parley %q = %q, %v; want an error saying %q", tt.args, out, err, tt.want)
		}
	}

	cookie, status := s.signIn(t, "ana", "correct horse")
	if status != http.StatusCreated {
		t.Fatalf("sign in as ana = %d", status)
	}
	token, err := command(t, "", "token", "create", "-database", db, "-label", "ci", "ana")
	if err != nil || len(strings.TrimSpace(token)) != 22 {
		t.Fatalf("parley token create = %q, %v; want a token", token, err)
	}
	dialAs := func(h http.Header) *websocket.Conn {
		t.Helper()
		conn, _, err := websocket.DefaultDialer.DialContext(t.Context(), "ws://"+s.addr+"/ws", h)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		send(t, conn, `{"type":"hello","v":1}`)
		readUntil(t, conn, "welcome", func(e event) bool { return e.Type == "welcome" && e.Nick == "ana" })
		return conn
	}
	browser := dialAs(cookie)
	bot := dialAs(http.Header{"Authorization": {"Bearer " + strings.TrimSpace(token)}})

	out, err = command(t, "new password\n", "user", "reset-password", "-database", db, "-redis-url", redis.URL(), "ana")
	if err != nil || !strings.Contains(out, "ended 2 sessions") {
		t.Fatalf("parley user reset-password = %q, %v; want 2 sessions ended", out, err)
	}
	for _, conn := range []*websocket.Conn{browser, bot} {
		waitClosed(t, conn, websocket.CloseNormalClosure)
	}
	if _, status := s.signIn(t, "ana", "correct horse"); status != http.StatusUnauthorized {
		t.Errorf("sign in with the old password = %d, want 401", status)
	}
	cookie, _ = s.signIn(t, "ana", "new password")
	browser = dialAs(cookie)
	if out, err := command(t, "", "user", "deactivate", "-database", db, "-redis-url", redis.URL(), "ana"); err != nil || !strings.Contains(out, "deactivated ana") {
		t.Fatalf("parley user deactivate = %q, %v", out, err)
	}
	waitClosed(t, browser, websocket.CloseNormalClosure)
	if _, status := s.signIn(t, "ana", "new password"); status != http.StatusUnauthorized {
		t.Errorf("sign in to a deactivated account = %d, want 401", status)
	}
	if out, err := command(t, "", "user", "activate", "-database", db, "ana"); err != nil || !strings.Contains(out, "activated ana") {
		t.Fatalf("parley user activate = %q, %v", out, err)
	}
	if _, status := s.signIn(t, "ana", "new password"); status != http.StatusCreated {
		t.Errorf("sign in after reactivation = %d, want 201", status)
	}

	var help bytes.Buffer
	if err := run(t.Context(), []string{"help", "user", "add"}, environment(nil), nil, &help, io.Discard); err != nil || !strings.Contains(help.String(), "-admin") {
		t.Errorf("parley help user add = %q, %v", help.String(), err)
	}
}

// waitClosed reads conn until the server closes it, and checks the code.
func waitClosed(t *testing.T, conn *websocket.Conn, code int) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, _, err := conn.ReadMessage(); err != nil {
			if ce, ok := err.(*websocket.CloseError); !ok || ce.Code != code {
				t.Errorf("connection ended with %v, want close code %d", err, code)
			}
			return
		}
	}
}
