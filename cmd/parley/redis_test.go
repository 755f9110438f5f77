package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/internal/redistest"
)

// ready returns the status code and error message of GET /api/ready.
func (s *server) ready(t *testing.T) (int, string) {
	t.Helper()
	res, err := http.Get("http://" + s.addr + "/api/ready")
	if err != nil {
		t.Fatalf("GET /api/ready: %v", err)
	}
	defer res.Body.Close()
	var body struct {
		Status string
		Error  struct{ Code, Message string }
	}
	raw, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("GET /api/ready: %s: %v", raw, err)
	}
	return res.StatusCode, body.Error.Message
}

// waitReady polls /api/ready until it answers status, and returns the
// error message of that answer. Redis is another process: there is
// nothing to wait on but the answers.
func (s *server) waitReady(t *testing.T, status int) string {
	t.Helper()
	var got int
	var msg string
	for range 200 {
		if got, msg = s.ready(t); got == status {
			return msg
		}
		time.Sleep(50 * time.Millisecond) // between polls; the loop is bounded
	}
	t.Fatalf("GET /api/ready never answered %d; last %d %q", status, got, msg)
	return ""
}

// TestServeWithRedis: with -redis-url, the server carries messages through
// Redis, /api/ready says whether Redis answers, and a server whose Redis
// goes away and comes back serves its clients throughout.
func TestServeWithRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Redis and the whole server")
	}
	redis := redistest.Start(t)
	dir := inDir(t, nil)
	s := startServer(t, filepath.Join(dir, "parley.db"), "-redis-url", redis.URL())
	if code, msg := s.ready(t); code != http.StatusOK {
		t.Fatalf("GET /api/ready with Redis up = %d %q, want 200", code, msg)
	}
	if log := s.logs.String(); !strings.Contains(log, `"redis":"unix://`) {
		t.Errorf("the log does not say which Redis the server uses:\n%s", log)
	}

	conn, _, err := websocket.DefaultDialer.DialContext(t.Context(), "ws://"+s.addr+"/ws", nil)
	if err != nil {
		t.Fatalf("dial ws://%s/ws: %v", s.addr, err)
	}
	defer conn.Close()
	send(t, conn, `{"type":"hello","v":1,"nick":"ana"}`)
	readUntil(t, conn, "welcome", func(e event) bool { return e.Type == "welcome" })
	send(t, conn, `{"type":"join","room":"general"}`)
	readUntil(t, conn, "joined", func(e event) bool { return e.Type == "joined" })
	sendAndRead := func(id string) {
		t.Helper()
		send(t, conn, fmt.Sprintf(`{"type":"send","room":"general","clientId":%q,"text":"hello"}`, id))
		readUntil(t, conn, "own message "+id, func(e event) bool { return e.Type == "message" && e.ClientID == id })
	}
	sendAndRead("with-redis")

	redis.Stop()
	if msg := s.waitReady(t, http.StatusServiceUnavailable); !strings.Contains(msg, "redis") {
		t.Errorf("GET /api/ready with Redis stopped says %q, want it to name redis", msg)
	}
	sendAndRead("without-redis") // the replica serves its own clients

	redis.Restart()
	s.waitReady(t, http.StatusOK)
	sendAndRead("redis-back")
	s.stop(t)
}

// TestServeRedisUnreachable: a server whose Redis does not answer starts
// all the same, is not ready, and never logs the password of the URL.
func TestServeRedisUnreachable(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole server")
	}
	dir := inDir(t, nil)
	// Port 1 on the loopback: refused at once.
	s := startServer(t, filepath.Join(dir, "parley.db"), "-redis-url", "redis://parley:hunter2@127.0.0.1:1/0")
	if msg := s.waitReady(t, http.StatusServiceUnavailable); msg != "Not ready: redis does not answer." {
		t.Errorf("GET /api/ready without Redis says %q, want that redis does not answer", msg)
	}
	s.stop(t)
	log := s.logs.String()
	if strings.Contains(log, "hunter2") {
		t.Errorf("the log shows the password of the Redis URL:\n%s", log)
	}
	if !strings.Contains(log, `"redis":"redis://parley:xxxxx@127.0.0.1:1/0"`) {
		t.Errorf("the log does not say which Redis the server uses, password hidden:\n%s", log)
	}
	if !strings.Contains(log, "redis connection lost") {
		t.Errorf("the log does not say that Redis does not answer:\n%s", log)
	}
}

// TestServeRedisBadURL: a Redis URL that is a URL, but not one go-redis
// takes, stops start-up with an error that names the setting and not the
// password.
func TestServeRedisBadURL(t *testing.T) {
	dir := inDir(t, nil)
	args := []string{"serve", "-addr", "127.0.0.1:0", "-database", filepath.Join(dir, "parley.db"),
		"-redis-url", "redis://parley:hunter2@redis:6379/notadb"}
	err := run(t.Context(), args, environment(nil), nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "redis-url") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("run(%q) = %v, want an error that names redis-url and not the password", args, err)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"":                                    "",
		"redis://redis:6379/0":                "redis://redis:6379/0",
		"redis://parley:hunter2@redis:6379/0": "redis://parley:xxxxx@redis:6379/0",
		"rediss://:hunter2@redis":             "rediss://:xxxxx@redis",
		"unix:///run/redis.sock":              "unix:///run/redis.sock",
		"redis://parley:hunter2@[::1:6379":    "(unparsable)",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestServeReplicasShareRoster: two servers on one database and one Redis
// tell their clients who is online on both.
func TestServeReplicasShareRoster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Redis and two whole servers")
	}
	redis := redistest.Start(t)
	dir := inDir(t, nil)
	db := filepath.Join(dir, "parley.db")
	var servers []*server
	for range 2 {
		servers = append(servers, startServer(t, db, "-redis-url", redis.URL(), "-presence-ttl", "3s", "-presence-heartbeat", "1s"))
	}
	join := func(s *server, nick string) (*websocket.Conn, event) {
		t.Helper()
		conn, _, err := websocket.DefaultDialer.DialContext(t.Context(), "ws://"+s.addr+"/ws", nil)
		if err != nil {
			t.Fatalf("dial ws://%s/ws: %v", s.addr, err)
		}
		t.Cleanup(func() { conn.Close() })
		send(t, conn, fmt.Sprintf(`{"type":"hello","v":1,"nick":%q}`, nick))
		readUntil(t, conn, "welcome", func(e event) bool { return e.Type == "welcome" })
		send(t, conn, `{"type":"join","room":"general"}`)
		return conn, readUntil(t, conn, "joined", func(e event) bool { return e.Type == "joined" })
	}
	join(servers[0], "ana")
	_, joined := join(servers[1], "bob")
	if got := fmt.Sprint(joined.Online); got != "[ana bob]" {
		t.Errorf("bob's joined.online on the second replica = %s, want [ana bob]", got)
	}
	for _, s := range servers {
		s.stop(t)
	}
}
