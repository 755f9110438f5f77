package httpapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/httpapi"
)

// The limits against abuse, each tried as an attacker would: past the
// limit, the answer is the documented one (429 with Retry-After and a JSON
// rate_limited error, or a rate_limited error event naming the refused
// frame) and changes nothing, while other addresses and other people carry
// on as if nothing happened. Every window is an hour, so that nothing
// comes back while a test runs, whatever the machine's load.

// limitedServer starts a server with limits, behind a trusted proxy on
// 127.0.0.1, so that a request names its client address in
// X-Forwarded-For.
func limitedServer(t *testing.T, limits httpapi.Limits) *testServer {
	t.Helper()
	return newTestServer(t, serverConfig{opts: httpapi.Options{
		Limits:         &limits,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
	}})
}

// from returns the request headers of a client at addr.
func from(addr string) http.Header {
	return http.Header{"X-Forwarded-For": {addr}}
}

// dialFrom opens a WebSocket from addr, closed when t ends.
func dialFrom(t *testing.T, ts *testServer, addr string) *client {
	t.Helper()
	conn, resp, err := dial(ts, from(addr))
	if err != nil {
		t.Fatalf("Dial from %s = %v (%v)", addr, err, resp)
	}
	t.Cleanup(func() { conn.Close() })
	return &client{t: t, conn: conn}
}

// checkRefused checks that resp is a 429 with Retry-After and a JSON
// rate_limited error whose message contains want, and returns the message.
func checkRefused(t *testing.T, what string, resp *http.Response, want string) string {
	t.Helper()
	if resp == nil {
		t.Fatalf("%s: no response, want 429", what)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body errorBody
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("%s: body %q is not JSON: %v", what, raw, err)
	}
	if resp.StatusCode != http.StatusTooManyRequests || body.Error.Code != "rate_limited" || !strings.Contains(body.Error.Message, want) {
		t.Fatalf("%s = %d %s, want 429 rate_limited saying %q", what, resp.StatusCode, raw, want)
	}
	if ra := resp.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("%s: Retry-After = %q, want whole seconds", what, ra)
	}
	return body.Error.Message
}

// TestLimitConnections: an address holds at most Connections WebSockets;
// one more is refused before the upgrade, and one that closes frees its
// place. Others' connections, and other addresses, are unaffected.
func TestLimitConnections(t *testing.T) {
	t.Parallel()
	ts := limitedServer(t, httpapi.Limits{Connections: 3})
	var held []*client
	for i := range 3 {
		c := dialFrom(t, ts, "192.0.2.1")
		c.hello(fmt.Sprint("ana", i), "")
		c.joinLive("general")
		held = append(held, c)
	}
	for range 5 {
		conn, resp, err := dial(ts, from("192.0.2.1"))
		if err == nil {
			conn.Close()
			t.Fatal("a fourth connection from one address was upgraded, want 429")
		}
		checkRefused(t, "a fourth connection", resp, "at most 3 at once")
	}
	// An address in the same IPv6 /64 is the same address.
	mustDialFrom := func(addr string) *client { return dialFrom(t, ts, addr) }
	mustDialFrom("2001:db8::1")
	mustDialFrom("2001:db8::2")
	mustDialFrom("2001:db8::3")
	if _, resp, err := dial(ts, from("2001:db8::ffff:1")); err == nil {
		t.Error("a fourth connection from one IPv6 /64 was upgraded, want 429")
	} else {
		checkRefused(t, "a fourth connection from the /64", resp, "at most 3 at once")
	}

	bob := dialFrom(t, ts, "192.0.2.2")
	bob.hello("bob", "")
	bob.joinLive("general")
	ack := held[0].send("general", "a-1", "still here")
	bob.waitEntry("general", ack.Seq)

	// Once one closes, its place is free again: the server counts it out
	// when it has seen the close, which the test cannot wait on, so it
	// tries until it may (each try is a round trip, not a sleep).
	held[2].conn.Close()
	deadline := time.Now().Add(waitTime)
	for {
		conn, resp, err := dial(ts, from("192.0.2.1"))
		if err == nil {
			conn.Close()
			break
		}
		checkRefused(t, "a connection while one closes", resp, "at most 3 at once")
		if time.Now().After(deadline) {
			t.Fatal("a closed connection's place never came free")
		}
	}
}

// TestLimitConnectRate: an address opens at most Connect's burst of
// connections; the refusal says when to try again. Another address is
// unaffected.
func TestLimitConnectRate(t *testing.T) {
	t.Parallel()
	ts := limitedServer(t, httpapi.Limits{Connect: httpapi.Rate{N: 4, Per: time.Hour}})
	for range 4 {
		conn, _, err := dial(ts, from("192.0.2.1"))
		if err != nil {
			t.Fatalf("connection within the burst: %v", err)
		}
		conn.Close()
	}
	_, resp, err := dial(ts, from("192.0.2.1"))
	if err == nil {
		t.Fatal("a fifth connection in an hour was upgraded, want 429")
	}
	msg := checkRefused(t, "a fifth connection", resp, "the limit is 4 every 1h")
	if !strings.Contains(msg, "Try again in 900 seconds") {
		t.Errorf("refusal says %q, want it to say when to try again: in 900 seconds, a quarter of an hour", msg)
	}
	c := dialFrom(t, ts, "192.0.2.2")
	c.hello("bob", "")
}

// TestLimitMessagesPerPerson: a person's messages are counted over all
// their connections: 50 connections each within the per-connection limit
// get no more through than one. A refused send is not stored, its error
// names its clientId, and another person in the room sends as before.
func TestLimitMessagesPerPerson(t *testing.T) {
	t.Parallel()
	ts := limitedServer(t, httpapi.Limits{Messages: httpapi.Rate{N: 6, Per: time.Hour}})
	first := dialFrom(t, ts, "192.0.2.1")
	w := first.hello("ana", "")
	tabs := []*client{first}
	for i := range 2 {
		tab := dialFrom(t, ts, fmt.Sprintf("198.51.100.%d", i+1)) // other addresses too
		tab.hello("ana", w.Session)
		tabs = append(tabs, tab)
	}
	first.joinLive("general")
	for _, tab := range tabs[1:] {
		tab.join("general", nil) // ana is in the room already
	}
	for i := range 6 {
		tabs[i%3].send("general", fmt.Sprint("a-", i), "within the limit")
	}
	for i, tab := range tabs {
		id := fmt.Sprint("over-", i)
		tab.writeJSON(map[string]any{"type": "send", "room": "general", "clientId": id, "text": "one too many"})
		e := tab.waitError("rate_limited")
		if e.ClientID != id || e.Room != "general" || !strings.Contains(e.Message, "the limit is 6 every 1h") {
			t.Errorf("send beyond the limit: got %v, want rate_limited for %s in general, saying the limit", e, id)
		}
	}
	bob := dialFrom(t, ts, "192.0.2.1") // ana's address: the limit is hers, not its
	bob.hello("bob", "")
	bob.joinLive("general")
	bob.send("general", "b-1", "unaffected")

	stored := 0
	for _, e := range ts.history(t, "general") {
		if e.From == "ana" && e.Kind == "message" {
			stored++
		}
	}
	if stored != 6 {
		t.Errorf("history holds %d messages of ana, want the 6 within the limit", stored)
	}
}

// TestLimitRoomCreation: a join that would create a room counts against
// the address and the person; beyond the limit it is refused and creates
// nothing, while joining rooms that exist goes on. A person elsewhere is
// held by their own count, another person elsewhere is not held at all.
func TestLimitRoomCreation(t *testing.T) {
	t.Parallel()
	ts := limitedServer(t, httpapi.Limits{Rooms: httpapi.Rate{N: 2, Per: time.Hour}})
	ana := dialFrom(t, ts, "192.0.2.1")
	w := ana.hello("ana", "")
	ana.joinLive("room-1")
	ana.joinLive("room-2")
	ana.write(`{"type":"join","room":"room-3"}`)
	if e := ana.waitError("rate_limited"); e.Room != "room-3" || !strings.Contains(e.Message, "new rooms from your address") {
		t.Errorf("third new room: got %v, want rate_limited for room-3 naming the address's limit", e)
	}
	ana.joinLive("general") // general exists: no creation
	for _, r := range ts.rooms(t) {
		if r.Name == "room-3" {
			t.Error("GET /api/rooms lists room-3, whose creation was refused")
		}
	}
	ts.getJSON(t, "/api/rooms/room-3/messages", http.StatusNotFound, &errorBody{})

	// Ana from another address is still ana.
	tab := dialFrom(t, ts, "203.0.113.9")
	tab.hello("ana", w.Session)
	tab.write(`{"type":"join","room":"room-4"}`)
	if e := tab.waitError("rate_limited"); !strings.Contains(e.Message, "new rooms from you") {
		t.Errorf("ana's new room from another address: got %v, want rate_limited naming her own limit", e)
	}
	tab.join("room-1", nil) // exists

	bob := dialFrom(t, ts, "203.0.113.10")
	bob.hello("bob", "")
	bob.joinLive("bobs-room")
}

// TestLimitGuests: an address starts at most Guests guest sessions (each
// holds a nickname for 30 days) and accounts; beyond it hello is refused
// with rate_limited, the connection stays open, and an existing session
// says hello as ever. Sign-up from that address is refused with 429 too.
func TestLimitGuests(t *testing.T) {
	t.Parallel()
	ts := limitedServer(t, httpapi.Limits{Guests: httpapi.Rate{N: 2, Per: time.Hour}})
	ana := dialFrom(t, ts, "192.0.2.1")
	w := ana.hello("ana", "")
	dialFrom(t, ts, "192.0.2.1").hello("bob", "")
	eve := dialFrom(t, ts, "192.0.2.1")
	eve.writeJSON(map[string]any{"type": "hello", "v": 1, "nick": "eve"})
	if e := eve.waitError("rate_limited"); !strings.Contains(e.Message, "new guests and accounts from your address") {
		t.Errorf("third guest: got %v, want rate_limited naming the limit", e)
	}
	eve.hello("ana", w.Session) // a session that exists is not a new one

	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/accounts",
		strings.NewReader(`{"name":"mallory","password":"a long passphrase","displayName":"M"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", "192.0.2.1")
	resp, err := ts.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	checkRefused(t, "sign-up beyond the limit", resp, "the limit is 2 every 1h")

	// The nickname was not taken: someone elsewhere may have it.
	dialFrom(t, ts, "192.0.2.2").hello("eve", "")
}

// TestParseRate covers the settings' rates.
func TestParseRate(t *testing.T) {
	for _, tt := range []struct {
		in, want string
	}{
		{"30/10s", "30/10s"}, {"120/1m", "120/1m"}, {"120/m", "120/1m"}, {"20/1h", "20/1h"},
		{"5/90m", "5/90m"}, {"10/1m30s", "10/1m30s"}, {"off", "off"}, {"0", "off"}, {" 3/1s ", "3/1s"},
	} {
		r, err := httpapi.ParseRate(tt.in)
		if err != nil || r.String() != tt.want {
			t.Errorf("ParseRate(%q) = %v, %v; want %s", tt.in, r, err, tt.want)
		}
	}
	for _, bad := range []string{"", "30", "x/1s", "-1/1s", "3/0s", "3/-1s", "3/fast", "2000000/1s"} {
		if r, err := httpapi.ParseRate(bad); err == nil {
			t.Errorf("ParseRate(%q) = %v, nil; want an error", bad, r)
		}
	}
}

// TestLimitRoomCreationOverREST: rooms made over REST (public, private,
// direct) count against the same limits as joins that create a room; an
// existing direct conversation does not count, and joining an existing
// room goes on beyond the limit.
func TestLimitRoomCreationOverREST(t *testing.T) {
	t.Parallel()
	limits := httpapi.Limits{Rooms: httpapi.Rate{N: 3, Per: time.Hour}}
	ts := newTestServer(t, serverConfig{opts: httpapi.Options{
		Limits: &limits, PasswordParams: cheapPasswords, Signup: true,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
	}})
	ana := ts.signUp(t, "ana", "correct horse")
	ts.signUp(t, "bob", "battery staple")
	ana.Set("X-Forwarded-For", "192.0.2.1")
	resp, body := ts.call(t, "POST", "/api/rooms", map[string]string{"name": "plans"}, ana)
	expect(t, "a first public room", resp, body, http.StatusCreated, "")
	resp, body = ts.call(t, "POST", "/api/rooms", map[string]string{"kind": "private", "title": "secret"}, ana)
	expect(t, "a private room", resp, body, http.StatusCreated, "")
	resp, body = ts.call(t, "POST", "/api/direct", map[string]any{"names": []string{"bob"}}, ana)
	expect(t, "a direct conversation", resp, body, http.StatusCreated, "")
	resp, body = ts.call(t, "POST", "/api/direct", map[string]any{"names": []string{"bob"}}, ana)
	expect(t, "the same conversation again", resp, body, http.StatusOK, "")

	resp, body = ts.call(t, "POST", "/api/rooms", map[string]string{"name": "more plans"}, ana)
	expect(t, "a fourth room", resp, body, http.StatusTooManyRequests, "rate_limited")
	if resp.Header.Get("Retry-After") == "" {
		t.Error("a fourth room: no Retry-After")
	}
	if resp, _ := ts.call(t, "GET", "/api/rooms/more%20plans", nil, ana); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET the refused room = %d, want 404: nothing was made", resp.StatusCode)
	}
	// A join that would create one is refused alike; joining one that
	// exists is not.
	c := dialFrom(t, ts, "192.0.2.1")
	c.hello("guest-of-ana", "")
	c.write(`{"type":"join","room":"yet another"}`)
	c.waitError("rate_limited")
	c.joinLive("plans")
}
