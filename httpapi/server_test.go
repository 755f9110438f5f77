package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/httpapi"
	"github.com/parley-chat/parley/hub"
	"github.com/parley-chat/parley/protocol"
	"github.com/parley-chat/parley/sqlite"
)

// waitTime bounds every wait for the server: an event, a close, a handler
// returning. Nothing a test waits for takes more than a fraction of it.
const waitTime = 5 * time.Second

// testServer is the whole HTTP surface on a real socket, over a real SQLite
// store and hub, for one test.
type testServer struct {
	URL   string // http://127.0.0.1:port
	store *sqlite.DB
	hub   *hub.Hub
	http  *http.Client
	errs  *errorLog

	handlers *sync.WaitGroup // one count per request being handled
}

// serverConfig is what a test may change about its server.
type serverConfig struct {
	opts     httpapi.Options
	noGuests bool
	// database is the SQLite file; empty means a new one.
	database string
	// grace is the hub's grace period; zero means a minute, long enough
	// never to end during a test, so that closing a connection appends no
	// leave entry.
	grace time.Duration
	// allowErrors accepts errors in the server's log; otherwise any error
	// it logs fails the test, since an internal error is a bug.
	allowErrors bool
	// writeBuffer, when not zero, is the size of the socket send buffer of
	// every connection the server accepts, which makes the server's writes
	// to a client that does not read block soon.
	writeBuffer int
}

// newTestServer starts a server that lives until t ends.
func newTestServer(t *testing.T, cfg serverConfig) *testServer {
	t.Helper()
	ctx := context.Background()
	if cfg.database == "" {
		cfg.database = filepath.Join(t.TempDir(), "parley.db")
	}
	store, err := sqlite.Open(ctx, cfg.database)
	if err != nil {
		t.Fatalf("sqlite.Open() = %v", err)
	}
	t.Cleanup(func() { store.Close() }) // ErrClosed when the test closed it

	errs := &errorLog{}
	logger := slog.New(errs)
	if cfg.grace == 0 {
		cfg.grace = time.Minute
	}
	h := hub.New(store, hub.NewLocal(), logger, hub.Options{Grace: cfg.grace})
	ctx, cancel := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- h.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("Hub.Run() = %v, want nil", err)
		}
	})

	ui := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ui "+r.URL.Path)
	})
	cfg.opts.Guests = !cfg.noGuests
	api := httpapi.NewServer(logger, store, h, ui, cfg.opts)
	handlers := new(sync.WaitGroup)
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlers.Add(1)
		defer handlers.Done()
		api.ServeHTTP(w, r)
	}))
	if cfg.writeBuffer > 0 {
		ts.Listener = smallWrites{ts.Listener, cfg.writeBuffer}
	}
	ts.Start()
	srv := &testServer{URL: ts.URL, store: store, hub: h, http: ts.Client(), errs: errs, handlers: handlers}
	t.Cleanup(func() {
		// The test's connections are closed by now: their cleanups run
		// first.
		srv.waitIdle(t)
		ts.Close()
		if msgs := errs.messages(); len(msgs) > 0 && !cfg.allowErrors {
			t.Errorf("server logged errors:\n%s", strings.Join(msgs, "\n"))
		}
	})
	return srv
}

// waitIdle waits until every handler has returned and every greeted
// WebSocket connection has ended, which they do once the test's connections
// are closed. httptest.Server.Close does not wait for them: it does not track
// hijacked connections, and a greeted connection runs on after its handler
// returns, until the hub has seen it disconnect.
func (ts *testServer) waitIdle(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTime)
	defer cancel()
	done := make(chan struct{})
	go func() {
		ts.handlers.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		t.Errorf("handlers still running %v after the connections were closed", waitTime)
		return
	}
	if err := ts.hub.Wait(ctx); err != nil {
		t.Errorf("connections still running %v after they were closed: %v", waitTime, err)
	}
}

// smallWrites is a listener whose connections have a send buffer of size
// bytes.
type smallWrites struct {
	net.Listener
	size int
}

func (l smallWrites) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if err := conn.(*net.TCPConn).SetWriteBuffer(l.size); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// errorLog is a slog.Handler that keeps the records of level Error.
type errorLog struct {
	mu   sync.Mutex
	msgs []string // guarded by mu
}

func (l *errorLog) Enabled(_ context.Context, level slog.Level) bool {
	return level >= slog.LevelError
}

func (l *errorLog) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	l.mu.Lock()
	l.msgs = append(l.msgs, b.String())
	l.mu.Unlock()
	return nil
}

func (l *errorLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *errorLog) WithGroup(string) slog.Handler      { return l }

func (l *errorLog) messages() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.msgs...)
}

// wsURL returns the WebSocket endpoint of ts.
func (ts *testServer) wsURL() string {
	return "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws"
}

// event is any event the server sends, decoded loosely.
type event struct {
	protocol.Event
	raw string // the line as received
}

func (e event) String() string { return e.raw }

// says reports whether e says that nick is online (or offline): an online
// or offline event, or a presence event that names them.
func (e event) says(nick string, online bool) bool {
	switch e.Type {
	case "online", "offline":
		return e.Nick == nick && (e.Type == "online") == online
	case "presence":
		return online && slices.Contains(e.Online, nick) || !online && slices.Contains(e.Offline, nick)
	}
	return false
}

// client is one WebSocket connection, used by the test's goroutine only.
type client struct {
	t    *testing.T
	conn *websocket.Conn
	// unread holds events received but not yet returned by waitFor, in
	// order of arrival; seen holds every event received.
	unread []event
	seen   []event
	// messages counts the WebSocket messages received.
	messages int
	nick     string // from welcome
}

// dial opens a WebSocket to ts with the given request headers.
func dial(ts *testServer, header http.Header) (*websocket.Conn, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), waitTime)
	defer cancel()
	return websocket.DefaultDialer.DialContext(ctx, ts.wsURL(), header)
}

// mustDial opens a WebSocket to ts that is closed when t ends.
func mustDial(t *testing.T, ts *testServer) *client {
	t.Helper()
	conn, _, err := dial(ts, nil)
	if err != nil {
		t.Fatalf("Dial(%s) = %v", ts.wsURL(), err)
	}
	t.Cleanup(func() { conn.Close() })
	return &client{t: t, conn: conn}
}

// mustGreet opens a WebSocket to ts and says hello as nick.
func mustGreet(t *testing.T, ts *testServer, nick string) *client {
	t.Helper()
	c := mustDial(t, ts)
	c.hello(nick, "")
	return c
}

// write sends one text frame.
func (c *client) write(data string) {
	c.t.Helper()
	c.writeMessage(websocket.TextMessage, []byte(data))
}

func (c *client) writeMessage(typ int, data []byte) {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(waitTime))
	if err := c.conn.WriteMessage(typ, data); err != nil {
		c.t.Fatalf("WriteMessage(%.60q) = %v", data, err)
	}
}

// writeJSON sends v as one frame.
func (c *client) writeJSON(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatalf("json.Marshal(%v) = %v", v, err)
	}
	c.write(string(b))
}

// readMessage reads one WebSocket message before deadline and returns its
// raw payload; it fails the test on a timeout or a close.
func (c *client) readMessage(what string, deadline time.Time) []byte {
	c.t.Helper()
	c.conn.SetReadDeadline(deadline)
	typ, data, err := c.conn.ReadMessage()
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		c.t.Fatalf("waiting for %s: nothing within %v; unread: %v", what, waitTime, c.unread)
	case err != nil:
		c.t.Fatalf("waiting for %s: ReadMessage() = %v; unread: %v", what, err, c.unread)
	case typ != websocket.TextMessage:
		c.t.Fatalf("waiting for %s: got message type %d, want text", what, typ)
	}
	return data
}

// receive splits a server message into its events and queues them.
func (c *client) receive(data []byte) {
	c.t.Helper()
	c.messages++
	for _, line := range strings.Split(string(data), "\n") {
		events, err := protocol.DecodeEvents([]byte(line))
		if err != nil {
			c.t.Fatalf("%v", err)
		}
		e := event{Event: events[0], raw: line}
		c.unread = append(c.unread, e)
		c.seen = append(c.seen, e)
	}
}

// waitFor returns the first unread event that match accepts, reading more
// if needed, and fails the test if none arrives within waitTime. Events it
// passes over stay unread.
func (c *client) waitFor(what string, match func(event) bool) event {
	c.t.Helper()
	deadline := time.Now().Add(waitTime)
	for i := 0; ; i++ {
		if i == len(c.unread) {
			c.receive(c.readMessage(what, deadline))
		}
		if e := c.unread[i]; match(e) {
			c.unread = append(c.unread[:i], c.unread[i+1:]...)
			return e
		}
	}
}

// waitType returns the first unread event of type typ.
func (c *client) waitType(typ string) event {
	c.t.Helper()
	return c.waitFor(typ, func(e event) bool { return e.Type == typ })
}

// waitEntry returns the entry of room with sequence number seq.
func (c *client) waitEntry(room string, seq int64) event {
	c.t.Helper()
	return c.waitFor(fmt.Sprintf("entry %d of %q", seq, room), func(e event) bool {
		return e.IsEntry() && e.Room == room && e.Seq == seq
	})
}

// waitError returns the first unread error event and checks its code.
func (c *client) waitError(code string) event {
	c.t.Helper()
	e := c.waitType("error")
	if e.Code != code || e.Message == "" {
		c.t.Fatalf("got error event %v, want code %q and a message", e, code)
	}
	return e
}

// waitClose reads until the server closes the connection and checks the
// close code.
func (c *client) waitClose(code int) {
	c.t.Helper()
	deadline := time.Now().Add(waitTime)
	c.conn.SetReadDeadline(deadline)
	for {
		_, data, err := c.conn.ReadMessage()
		if err == nil {
			c.receive(data)
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			c.t.Fatalf("waiting for close %d: ReadMessage() = %v", code, err)
		}
		if ce.Code != code {
			c.t.Fatalf("connection closed with %d %q, want %d", ce.Code, ce.Text, code)
		}
		return
	}
}

// entries returns the log entries of room received so far, in order.
func (c *client) entries(room string) []event {
	var es []event
	for _, e := range c.seen {
		if e.IsEntry() && e.Room == room {
			es = append(es, e)
		}
	}
	return es
}

// hello says hello as nick, presenting session when not empty, and returns
// the welcome event.
func (c *client) hello(nick, session string) event {
	c.t.Helper()
	c.writeJSON(map[string]any{"type": "hello", "v": 1, "nick": nick, "session": session})
	e := c.waitFor("welcome", func(e event) bool { return e.Type == "welcome" || e.Type == "error" })
	if e.Type != "welcome" {
		c.t.Fatalf("hello as %q: got %v, want welcome", nick, e)
	}
	c.nick = e.Nick
	return e
}

// join joins room, from since when not nil, and returns the joined event.
func (c *client) join(room string, since *int64) event {
	c.t.Helper()
	f := map[string]any{"type": "join", "room": room}
	if since != nil {
		f["since"] = *since
	}
	c.writeJSON(f)
	e := c.waitFor("joined", func(e event) bool { return e.Type == "joined" || e.Type == "error" })
	if e.Type != "joined" || e.Room != room {
		c.t.Fatalf("join %q: got %v, want joined", room, e)
	}
	return e
}

// joinLive joins room without replay and waits for the person's own join
// entry. Entries committed before it may come first: one acknowledged to
// someone just before the join can still be on its way to the room.
func (c *client) joinLive(room string) (joined, entry event) {
	c.t.Helper()
	joined = c.join(room, nil)
	entry = c.waitFor("own join entry in "+room, func(e event) bool {
		return e.IsEntry() && e.Room == room && e.Type == "join" && e.From == c.nick
	})
	if entry.Seq <= joined.LastSeq {
		c.t.Fatalf("after joining %q: own join entry %v, want it after lastSeq %d", room, entry, joined.LastSeq)
	}
	return joined, entry
}

// send sends text to room and returns the ack.
func (c *client) send(room, clientID, text string) event {
	c.t.Helper()
	c.writeJSON(map[string]any{"type": "send", "room": room, "clientId": clientID, "text": text})
	e := c.waitFor("ack of "+clientID, func(e event) bool {
		return (e.Type == "ack" || e.Type == "error") && e.ClientID == clientID
	})
	if e.Type != "ack" || e.Room != room || e.Seq < 1 {
		c.t.Fatalf("send %q to %q: got %v, want ack", clientID, room, e)
	}
	return e
}

// ping sends a ping and waits for the pong: everything the connection was
// sent before has been handled.
func (c *client) ping() {
	c.t.Helper()
	c.write(`{"type":"ping"}`)
	c.waitType("pong")
}

// errorBody is the JSON body of every REST error.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// get requests path from ts and returns the response with its body read.
func (ts *testServer) get(t *testing.T, method, path string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, nil)
	if err != nil {
		t.Fatalf("NewRequest(%s %s) = %v", method, path, err)
	}
	resp, err := ts.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return resp, body
}

// getJSON requests path with GET, checks the status and that the answer is
// JSON, and decodes it into v.
func (ts *testServer) getJSON(t *testing.T, path string, status int, v any) *http.Response {
	t.Helper()
	resp, body := ts.get(t, http.MethodGet, path)
	if resp.StatusCode != status {
		t.Fatalf("GET %s = %d %s, want %d", path, resp.StatusCode, body, status)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("GET %s: Content-Type = %q, want application/json", path, ct)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: body %s does not decode: %v", path, body, err)
	}
	return resp
}

// entriesResponse is the body of the history endpoints.
type entriesResponse struct {
	Room    string          `json:"room"`
	Entries []*parley.Entry `json:"entries"`
}

// history returns the newest entries of room, up to 200, over REST.
func (ts *testServer) history(t *testing.T, room string) []*parley.Entry {
	t.Helper()
	var resp entriesResponse
	ts.getJSON(t, "/api/rooms/"+url.PathEscape(room)+"/messages?limit=200", http.StatusOK, &resp)
	return resp.Entries
}

// roomInfo is one room as GET /api/rooms lists it.
type roomInfo struct {
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
	LastSeq   int64     `json:"lastSeq"`
	Online    int       `json:"online"`
}

// rooms returns the rooms listed by GET /api/rooms, in order.
func (ts *testServer) rooms(t *testing.T) []roomInfo {
	t.Helper()
	var resp struct {
		Rooms []roomInfo `json:"rooms"`
	}
	ts.getJSON(t, "/api/rooms", http.StatusOK, &resp)
	return resp.Rooms
}

// room returns the room named name as GET /api/rooms lists it.
func (ts *testServer) room(t *testing.T, name string) roomInfo {
	t.Helper()
	for _, r := range ts.rooms(t) {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("GET /api/rooms does not list %q", name)
	return roomInfo{}
}

// mustAppend stores a message in room, which must exist, directly.
func (ts *testServer) mustAppend(t *testing.T, room, from, clientID, text string) *parley.Entry {
	t.Helper()
	e := &parley.Entry{Room: room, Kind: parley.KindMessage, From: from, ClientID: clientID, Text: text}
	if _, err := ts.store.Append(context.Background(), e); err != nil {
		t.Fatalf("Append(%q, %q) = %v", room, clientID, err)
	}
	return e
}

func ptr[T any](v T) *T { return &v }
