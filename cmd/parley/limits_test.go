package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/pgtest"
	"github.com/parley-chat/parley/internal/redistest"
	"github.com/parley-chat/parley/protocol"
)

// nextReply reads events from conn until one of type ack or error for
// clientID comes, and returns it.
func nextReply(t *testing.T, conn *websocket.Conn, clientID string) event {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for the reply to %s: read: %v", clientID, err)
		}
		events, err := protocol.DecodeEvents(msg)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			if (e.Type == "ack" || e.Type == "error") && e.ClientID == clientID {
				return e
			}
		}
	}
}

// TestReplicasShareLimits: with -redis-url, two replicas on one database count the limits
// together: a person's messages and an address's new connections, spread
// over both, are refused once they pass the limit in all, where each
// replica alone has seen fewer; and so are failed sign-ins. When Redis stops answering, each replica
// limits on its own count, and says so in its log.
func TestReplicasShareLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Redis and two whole servers")
	}
	redis := redistest.Start(t)
	inDir(t, nil)
	// Replicas share a PostgreSQL database: SQLite is for one.
	db := pgtest.NewDatabase(t)
	var servers []*server
	for range 2 {
		servers = append(servers, startServer(t, db, "-redis-url", redis.URL(),
			"-message-rate", "4/1h", "-connect-rate", "4/1h"))
	}
	a, b := servers[0], servers[1]
	dial := func(s *server) (*websocket.Conn, *http.Response, error) {
		conn, resp, err := websocket.DefaultDialer.DialContext(t.Context(), "ws://"+s.addr+"/ws", nil)
		if err == nil {
			t.Cleanup(func() { conn.Close() })
		}
		return conn, resp, err
	}
	mustDial := func(s *server) *websocket.Conn {
		t.Helper()
		conn, _, err := dial(s)
		if err != nil {
			t.Fatalf("dial ws://%s/ws: %v", s.addr, err)
		}
		return conn
	}

	// Four connections from 127.0.0.1, two on each replica.
	onA := mustDial(a)
	send(t, onA, `{"type":"hello","v":1,"nick":"ana"}`)
	w := readUntil(t, onA, "welcome", func(e event) bool { return e.Type == "welcome" })
	onB := mustDial(b)
	send(t, onB, fmt.Sprintf(`{"type":"hello","v":1,"session":%q}`, w.Session))
	readUntil(t, onB, "welcome", func(e event) bool { return e.Type == "welcome" })
	mustDial(a)
	mustDial(b)
	_, resp, err := dial(a)
	if err == nil {
		t.Fatal("a fifth connection in an hour, the third on this replica, was upgraded; want 429: the replicas share the count")
	}
	if resp == nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("a fifth connection: %v, want 429 with Retry-After", resp)
	}
	raw, _ := io.ReadAll(resp.Body)
	var body struct {
		Error struct{ Code, Message string }
	}
	if json.Unmarshal(raw, &body) != nil || body.Error.Code != "rate_limited" || !strings.Contains(body.Error.Message, "the limit is 4 every 1h") {
		t.Errorf("a fifth connection: body %s, want rate_limited naming the limit", raw)
	}

	// Four messages of ana's, two on each replica; the fifth is refused.
	for _, conn := range []*websocket.Conn{onA, onB} {
		send(t, conn, `{"type":"join","room":"general"}`)
		readUntil(t, conn, "joined", func(e event) bool { return e.Type == "joined" })
	}
	for i, conn := range []*websocket.Conn{onA, onB, onA, onB} {
		id := fmt.Sprint("a-", i)
		send(t, conn, fmt.Sprintf(`{"type":"send","room":"general","clientId":%q,"text":"hi"}`, id))
		if e := nextReply(t, conn, id); e.Type != "ack" {
			t.Fatalf("message %d of a limit of 4: got %+v, want ack", i+1, e)
		}
	}
	send(t, onA, `{"type":"send","room":"general","clientId":"a-4","text":"one too many"}`)
	if e := nextReply(t, onA, "a-4"); e.Type != "error" || e.Code != "rate_limited" {
		t.Fatalf("a fifth message, the third on this replica: got %+v, want rate_limited", e)
	}

	// Failed sign-ins count on both: five wrong passwords, spread over
	// the replicas, and the sixth waits, where each replica alone has
	// seen fewer than the five free failures.
	post := func(s *server, path, body string) *http.Response {
		t.Helper()
		resp, err := http.Post("http://"+s.addr+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post(a, "/api/accounts", `{"name":"root","password":"correct horse"}`); resp.StatusCode != http.StatusCreated {
		t.Fatalf("sign-up: %s, want 201", resp.Status)
	}
	wrong := `{"name":"root","password":"wrong horse"}`
	for i, s := range []*server{a, b, a, b, a} {
		if resp := post(s, "/api/sessions", wrong); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password #%d: %s, want 401", i+1, resp.Status)
		}
	}
	if resp := post(b, "/api/sessions", wrong); resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("a sixth attempt, the third on this replica: %s, want 429 with Retry-After: the replicas share the count", resp.Status)
	}

	// Without Redis, replica b counts alone: ana has sent nothing there
	// by its own count.
	redis.Stop()
	send(t, onB, `{"type":"send","room":"general","clientId":"a-5","text":"while Redis is down"}`)
	if e := nextReply(t, onB, "a-5"); e.Type != "ack" {
		t.Fatalf("a message while Redis is down: got %+v, want ack (limited on the replica alone)", e)
	}
	if logs := b.logs.String(); !strings.Contains(logs, "shared limiter does not answer") {
		t.Errorf("replica b's log does not say that the shared limiter failed:\n%s", logs)
	}
	for _, s := range servers {
		s.stop(t)
	}
}
