package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/parley-chat/parley/httpapi"
	"github.com/parley-chat/parley/protocol"
)

// The authorization matrix: every REST operation and every WebSocket frame,
// asked by every kind of person, with the exact answer each gets. An
// operation of routes.go or a frame of the protocol without a row here
// fails the test, so that nothing new goes in unchecked.

// personas, in the order of the columns of the matrix.
var personas = []string{"none", "guest", "member", "nonmember", "owner", "admin", "deactivated", "revoked"}

// world is a server with one person of each persona, and a private room
// that the owner made with the member in it.
type world struct {
	ts      *testServer
	headers map[string]http.Header // by persona; none's is empty
	secret  string                 // the private room
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ts := accountServer(t, httpapi.Options{})
	w := &world{ts: ts, headers: map[string]http.Header{"none": {}}}
	w.headers["admin"] = ts.signUp(t, "root", "password 0") // the first account: an admin
	w.headers["owner"] = ts.signUp(t, "ana", "password 1")
	w.headers["member"] = ts.signUp(t, "bob", "password 2")
	w.headers["nonmember"] = ts.signUp(t, "cy", "password 3")
	w.headers["deactivated"] = ts.signUp(t, "dee", "password 4")
	w.headers["revoked"] = ts.signUp(t, "eve", "password 5")
	g := mustGreet(t, ts, "zed")
	w.headers["guest"] = http.Header{"Authorization": {"Bearer " + g.seen[0].Session}}
	g.conn.Close()

	resp, body := ts.call(t, "POST", "/api/rooms", map[string]any{"kind": "private", "title": "Plans", "members": []string{"bob"}}, w.headers["owner"])
	expect(t, "make the private room", resp, body, http.StatusCreated, "")
	var made struct{ Name string }
	json.Unmarshal(body, &made)
	w.secret = made.Name
	resp, body = ts.call(t, "PATCH", "/api/accounts/dee", map[string]bool{"active": false}, w.headers["admin"])
	expect(t, "deactivate dee", resp, body, 200, "")
	resp, body = ts.call(t, "DELETE", "/api/sessions/current", nil, w.headers["revoked"])
	expect(t, "eve signs out", resp, body, http.StatusNoContent, "")
	return w
}

// restCase is one row of the REST matrix: an operation and a request of
// it, with the status each persona gets, in the order of personas.
type restCase struct {
	op     string // "METHOD /path" as routes.go has it
	path   string // with {secret} for the private room
	body   any
	status [8]int
}

const (
	ok   = 200
	made = 201
	none = 204
	bad  = 400
	auth = 401
	forb = 403
	nf   = 404
	conf = 409
)

var restMatrix = []restCase{
	//                                                                      none  guest member nonmem owner admin deact revoked
	{"GET /api/health", "/api/health", nil, [8]int{ok, ok, ok, ok, ok, ok, ok, ok}},
	{"GET /api/ready", "/api/ready", nil, [8]int{ok, ok, ok, ok, ok, ok, ok, ok}},
	{"GET /api/server", "/api/server", nil, [8]int{ok, ok, ok, ok, ok, ok, ok, ok}},
	{"GET /api/rooms", "/api/rooms", nil, [8]int{ok, ok, ok, ok, ok, ok, auth, auth}},
	{"POST /api/rooms", "/api/rooms", map[string]string{"kind": "private", "title": "x"}, [8]int{auth, forb, made, made, made, made, auth, auth}},
	{"GET /api/rooms/{room}", "/api/rooms/{secret}", nil, [8]int{nf, nf, ok, nf, ok, nf, auth, auth}},
	{"PATCH /api/rooms/{room}", "/api/rooms/{secret}", map[string]string{"topic": "t"}, [8]int{auth, forb, forb, nf, ok, ok, auth, auth}},
	{"PATCH /api/rooms/{room}", "/api/rooms/{secret}", map[string]bool{"archived": true}, [8]int{auth, forb, forb, nf, ok, ok, auth, auth}},
	{"DELETE /api/rooms/{room}", "/api/rooms/{secret}", nil, [8]int{auth, forb, forb, nf, none, none, auth, auth}},
	{"GET /api/rooms/{room}/messages", "/api/rooms/{secret}/messages", nil, [8]int{nf, nf, ok, nf, ok, nf, nf, nf}},
	{"GET /api/rooms/{room}/members", "/api/rooms/{secret}/members", nil, [8]int{nf, nf, ok, nf, ok, nf, auth, auth}},
	{"PUT /api/rooms/{room}/members/{name}", "/api/rooms/{secret}/members/cy", nil, [8]int{auth, forb, forb, nf, none, none, auth, auth}},
	{"DELETE /api/rooms/{room}/members/{name}", "/api/rooms/{secret}/members/bob", nil, [8]int{auth, forb, none, nf, none, none, auth, auth}},
	{"POST /api/direct", "/api/direct", map[string]any{"names": []string{"ana"}}, [8]int{auth, forb, made, made, bad, made, auth, auth}},
	{"GET /api/history", "/api/history", nil, [8]int{ok, ok, ok, ok, ok, ok, ok, ok}},
	{"GET /api/read-markers", "/api/read-markers", nil, [8]int{auth, ok, ok, ok, ok, ok, auth, auth}},
	{"POST /api/accounts", "/api/accounts", map[string]string{"name": "newbie", "password": "password 9"}, [8]int{made, made, made, made, made, made, made, made}},
	{"PATCH /api/accounts/{name}", "/api/accounts/cy", map[string]bool{"admin": true}, [8]int{auth, forb, nf, nf, nf, ok, auth, auth}},
	{"GET /api/account", "/api/account", nil, [8]int{auth, ok, ok, ok, ok, ok, auth, auth}},
	{"PATCH /api/account", "/api/account", map[string]string{"displayName": "X"}, [8]int{auth, forb, ok, ok, ok, ok, auth, auth}},
	{"POST /api/account/password", "/api/account/password", map[string]string{"current": "wrong", "new": "password 9"}, [8]int{auth, forb, forb, forb, forb, forb, auth, auth}},
	{"GET /api/sessions", "/api/sessions", nil, [8]int{auth, forb, ok, ok, ok, ok, auth, auth}},
	{"POST /api/sessions", "/api/sessions", map[string]string{"name": "bob", "password": "password 2"}, [8]int{made, made, made, made, made, made, made, made}},
	{"DELETE /api/sessions/{id}", "/api/sessions/current", nil, [8]int{auth, none, none, none, none, none, auth, auth}},
	{"POST /api/tokens", "/api/tokens", map[string]string{"label": "bot"}, [8]int{auth, forb, made, made, made, made, auth, auth}},
}

func TestAuthorizationMatrixREST(t *testing.T) {
	routes, err := os.ReadFile("routes.go")
	if err != nil {
		t.Fatal(err)
	}
	var served []string
	for _, m := range regexp.MustCompile(`get\(mux, "(/api/[^"]+)"`).FindAllSubmatch(routes, -1) {
		served = append(served, "GET "+string(m[1]))
	}
	for _, m := range regexp.MustCompile(`methods\(mux, "(/api/[^"]+)", map\[string\]http.Handler\{(.*)\}\)`).FindAllSubmatch(routes, -1) {
		for _, method := range regexp.MustCompile(`"([A-Z]+)":`).FindAllSubmatch(m[2], -1) {
			served = append(served, string(method[1])+" "+string(m[1]))
		}
	}
	for _, op := range served {
		if !slices.ContainsFunc(restMatrix, func(c restCase) bool { return c.op == op }) {
			t.Errorf("%s has no row in the authorization matrix", op)
		}
	}

	runs := map[string]int{}
	for _, c := range restMatrix {
		// An operation of several rows runs as "op", "op 2", …: not
		// "op#01", which names no database file.
		name := c.op
		if runs[c.op]++; runs[c.op] > 1 {
			name = fmt.Sprintf("%s %d", c.op, runs[c.op])
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			method, _, _ := strings.Cut(c.op, " ")
			var w *world
			for i, persona := range personas {
				if w == nil || method != http.MethodGet {
					w = newWorld(t) // a request that changes something, on a world of its own
				}
				path := strings.ReplaceAll(c.path, "{secret}", w.secret)
				resp, body := w.ts.call(t, method, path, c.body, w.headers[persona])
				if resp.StatusCode != c.status[i] {
					t.Errorf("%s %s as %s = %d %s, want %d", method, c.path, persona, resp.StatusCode, body, c.status[i])
				}
			}
		})
	}
}

// The WebSocket matrix: after hello as each persona (where hello
// succeeds), each frame about the private room, with the outcome each gets:
// "ok" (the frame's own answer), an error code, or "closed" (1000).
type frameCase struct {
	frame   string
	outcome [8]string
}

var frameMatrix = []frameCase{
	//                 none         guest        member     nonmember    owner      admin        deactivated        revoked
	{"hello", [8]string{"invalid_nick", "ok", "ok", "ok", "ok", "ok", "invalid_session", "invalid_session"}},
	{"join", [8]string{"-", "not_found", "ok", "not_found", "ok", "not_found", "-", "-"}},
	{"send", [8]string{"-", "not_joined", "ok", "not_joined", "ok", "not_joined", "-", "-"}},
	{"edit", [8]string{"-", "not_joined", "ok", "not_joined", "ok", "not_joined", "-", "-"}},
	{"delete", [8]string{"-", "not_joined", "ok", "not_joined", "ok", "not_joined", "-", "-"}},
	{"typing", [8]string{"-", "not_joined", "ok", "not_joined", "ok", "not_joined", "-", "-"}},
	{"read", [8]string{"-", "not_joined", "ok", "not_joined", "ok", "not_joined", "-", "-"}},
	{"leave", [8]string{"-", "not_joined", "ok", "not_joined", "ok", "not_joined", "-", "-"}},
	{"ping", [8]string{"-", "ok", "ok", "ok", "ok", "ok", "-", "-"}},
	{"signout", [8]string{"-", "closed", "closed", "closed", "closed", "closed", "-", "-"}},
}

func TestAuthorizationMatrixWebSocket(t *testing.T) {
	for _, f := range protocol.FrameTypes {
		if !slices.ContainsFunc(frameMatrix, func(c frameCase) bool { return c.frame == f }) {
			t.Errorf("frame %q has no row in the authorization matrix", f)
		}
	}
	w := newWorld(t)
	for i, persona := range personas {
		// hello as persona: with the persona's cookie or token on the
		// upgrade, no nick.
		conn, _, err := dial(w.ts, w.headers[persona])
		if err != nil {
			t.Fatal(err)
		}
		c := &client{t: t, conn: conn}
		c.writeJSON(map[string]any{"type": "hello", "v": 1})
		e := c.waitFor("hello's answer", func(e event) bool { return e.Type == "welcome" || e.Type == "error" })
		got := "ok"
		if e.Type == "error" {
			got = e.Code
		}
		if want := frameMatrix[0].outcome[i]; got != want {
			t.Errorf("hello as %s = %s, want %s", persona, e.raw, want)
		}
		if got != "ok" {
			conn.Close()
			continue
		}
		sent := int64(1) // the seq of the persona's message, once sent
		for _, fc := range frameMatrix[1:] {
			frame := map[string]any{"type": fc.frame, "room": w.secret}
			switch fc.frame {
			case "send":
				frame["clientId"], frame["text"] = fmt.Sprintf("%s-1", persona), "hi"
			case "edit":
				frame["clientId"], frame["seq"], frame["text"] = fmt.Sprintf("%s-2", persona), sent, "hi again"
			case "delete":
				frame["clientId"], frame["seq"] = fmt.Sprintf("%s-3", persona), sent
			case "read":
				frame["seq"] = sent
			}
			if fc.frame == "join" {
				frame["since"] = 0
			}
			c.writeJSON(frame)
			want := fc.outcome[i]
			if want == "closed" {
				c.waitClose(protocol.CloseNormal)
				continue
			}
			answer := map[string]string{"join": "joined", "send": "ack", "edit": "ack", "delete": "ack", "leave": "left", "ping": "pong"}[fc.frame]
			pinged := answer == ""
			if pinged { // typing and read have no answer: a ping after it shows that it was taken
				c.writeJSON(map[string]any{"type": "ping"})
				answer = "pong"
			}
			e := c.waitFor(fc.frame+"'s answer", func(e event) bool { return e.Type == answer || e.Type == "error" })
			if pinged && e.Type == "error" {
				c.waitFor("the pong after the error", func(e event) bool { return e.Type == "pong" })
			}
			got := "ok"
			if e.Type == "error" {
				got = e.Code
			}
			if fc.frame == "send" && got == "ok" {
				sent = e.Seq
			}
			if got != want {
				t.Errorf("%s as %s = %s, want %s", fc.frame, persona, e.raw, want)
			}
		}
		conn.Close()
	}
}
