package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/httpapi"
)

func TestHealth(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{})
	var body map[string]string
	ts.getJSON(t, "/api/health", http.StatusOK, &body)
	if body["status"] != "ok" {
		t.Errorf("GET /api/health = %v, want status ok", body)
	}
	if resp, _ := ts.get(t, http.MethodHead, "/api/health"); resp.StatusCode != http.StatusOK {
		t.Errorf("HEAD /api/health = %d, want 200", resp.StatusCode)
	}
}

func TestReady(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{allowErrors: true})
	var body map[string]string
	ts.getJSON(t, "/api/ready", http.StatusOK, &body)
	if body["status"] != "ready" {
		t.Errorf("GET /api/ready = %v, want status ready", body)
	}

	ts.store.Close()
	var e errorBody
	ts.getJSON(t, "/api/ready", http.StatusServiceUnavailable, &e)
	if e.Error.Code == "" || e.Error.Message == "" {
		t.Errorf("GET /api/ready with the store closed = %+v, want an error code and message", e)
	}

	// Other endpoints fail without showing what went wrong, and the server
	// logs it.
	ts.getJSON(t, "/api/rooms", http.StatusInternalServerError, &e)
	if e.Error.Code != "internal" || e.Error.Message != "Something went wrong." {
		t.Errorf("GET /api/rooms with the store closed = %+v, want code internal and a generic message", e)
	}
	if len(ts.errs.messages()) == 0 {
		t.Errorf("GET /api/rooms failed, and the server logged no error")
	}
}

// TestReadyAsksEveryPart: /api/ready asks the parts of Options.Ready as
// well as the store, and names those that do not answer.
func TestReadyAsksEveryPart(t *testing.T) {
	t.Parallel()
	var brokerErr, cacheErr atomic.Pointer[error]
	check := func(p *atomic.Pointer[error]) func(context.Context) error {
		return func(ctx context.Context) error {
			if err := p.Load(); err != nil {
				return *err
			}
			return ctx.Err()
		}
	}
	ts := newTestServer(t, serverConfig{allowErrors: true, opts: httpapi.Options{Ready: map[string]func(context.Context) error{
		"broker": check(&brokerErr),
		"cache":  check(&cacheErr),
	}}})
	var body map[string]string
	ts.getJSON(t, "/api/ready", http.StatusOK, &body)
	if body["status"] != "ready" {
		t.Errorf("GET /api/ready = %v, want status ready", body)
	}

	down := errors.New("connection refused")
	tests := []struct {
		broker, cache, store bool // down
		want                 string
	}{
		{true, false, false, "Not ready: broker does not answer."},
		{true, true, false, "Not ready: broker, cache do not answer."},
		{false, false, true, "Not ready: store does not answer."},
		{true, false, true, "Not ready: broker, store do not answer."},
	}
	for _, tt := range tests {
		brokerErr.Store(nil)
		cacheErr.Store(nil)
		if tt.broker {
			brokerErr.Store(&down)
		}
		if tt.cache {
			cacheErr.Store(&down)
		}
		if tt.store {
			ts.store.Close()
		}
		var e errorBody
		ts.getJSON(t, "/api/ready", http.StatusServiceUnavailable, &e)
		if e.Error.Code != "unavailable" || e.Error.Message != tt.want {
			t.Errorf("GET /api/ready with broker, cache, store down: %v, %v, %v = %+v, want code unavailable and %q",
				tt.broker, tt.cache, tt.store, e.Error, tt.want)
		}
	}
}

func TestRooms(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{})
	before := time.Now().Add(-time.Minute)

	rooms := ts.rooms(t)
	if len(rooms) != 1 || rooms[0].Name != "general" || rooms[0].LastSeq != 0 || rooms[0].Online != 0 {
		t.Fatalf("GET /api/rooms = %+v, want only general, empty, nobody online", rooms)
	}
	if rooms[0].CreatedAt.Before(before) {
		t.Errorf("general created at %v, want about now", rooms[0].CreatedAt)
	}

	ana := mustGreet(t, ts, "ana")
	ana.joinLive("general")
	if r := ts.room(t, "general"); r.LastSeq != 1 || r.Online != 1 {
		t.Errorf("after ana joined: general is %+v, want lastSeq 1, online 1", r)
	}
	ack := ana.send("general", "a-1", "hi")
	bob := mustGreet(t, ts, "bob")
	bob.joinLive("general")
	if r := ts.room(t, "general"); r.LastSeq != ack.Seq+1 || r.Online != 2 {
		t.Errorf("after ana sent and bob joined: general is %+v, want lastSeq %d, online 2", r, ack.Seq+1)
	}

	// Rooms are listed by name; a room's name is case-sensitive.
	ana.joinLive("Zebra")
	ana.joinLive("apple")
	var names []string
	for _, r := range ts.rooms(t) {
		names = append(names, r.Name)
	}
	if want := []string{"Zebra", "apple", "general"}; !slices.Equal(names, want) {
		t.Errorf("GET /api/rooms lists %q, want %q", names, want)
	}

	ana.write(`{"type":"leave","room":"general"}`)
	ana.waitType("left")
	if r := ts.room(t, "general"); r.Online != 1 {
		t.Errorf("after ana left: general is %+v, want online 1", r)
	}
}

func TestMessages(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{})
	ctx := context.Background()
	for _, name := range []string{"long", "empty", "a/b c?#%"} {
		if _, err := ts.store.EnsureRoom(ctx, name); err != nil {
			t.Fatalf("EnsureRoom(%q) = %v", name, err)
		}
	}
	const n = 60
	for i := 1; i <= n; i++ {
		ts.mustAppend(t, "long", "ana", fmt.Sprintf("c-%d", i), fmt.Sprintf("message %d", i))
	}
	ts.mustAppend(t, "a/b c?#%", "ana", "c-1", "odd name")

	tests := []struct {
		query    string
		from, to int64 // the seqs of the page, inclusive; from > to for none
	}{
		{"", n - parley.DefaultPageSize + 1, n}, // the newest page
		{"?limit=5", n - 4, n},
		{"?limit=200", 1, n},
		{"?limit=1", n, n},
		{"?before=10&limit=3", 7, 9},
		{"?before=10", 1, 9},
		{"?before=1", 1, 0},
		{"?before=0", 1, 0}, // nothing is below 0
		{"?after=5&before=0", 1, 0},
		{"?before=1000", n - parley.DefaultPageSize + 1, n},
		{"?after=55", 56, n},
		{"?after=10&limit=3", 11, 13}, // after pages forward, from the oldest
		{"?after=0&limit=3", 1, 3},    // after=0 catches up from the very start
		{"?after=60", 1, 0},
		{"?after=10&before=14", 11, 13},
		{"?after=10&before=40&limit=5", 11, 15},
	}
	for _, tt := range tests {
		path := "/api/rooms/long/messages" + tt.query
		var resp entriesResponse
		ts.getJSON(t, path, http.StatusOK, &resp)
		var want []int64
		for seq := tt.from; seq <= tt.to; seq++ {
			want = append(want, seq)
		}
		var got []int64
		for _, e := range resp.Entries {
			got = append(got, e.Seq)
			if e.Room != "long" || e.Kind != parley.KindMessage || e.From != "ana" ||
				e.Text != fmt.Sprintf("message %d", e.Seq) || e.ClientID != fmt.Sprintf("c-%d", e.Seq) || e.At.IsZero() {
				t.Errorf("GET %s: entry %+v, want message %d from ana", path, e, e.Seq)
			}
		}
		if resp.Room != "long" || !slices.Equal(got, want) {
			t.Errorf("GET %s = room %q, seqs %v; want room long, seqs %v", path, resp.Room, got, want)
		}
	}

	// An empty log is an empty list, not null.
	resp, body := ts.get(t, http.MethodGet, "/api/rooms/empty/messages")
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != `{"room":"empty","entries":[]}` {
		t.Errorf("GET /api/rooms/empty/messages = %d %s, want 200 with no entries", resp.StatusCode, body)
	}

	// Any room name can be escaped into the path.
	var odd entriesResponse
	ts.getJSON(t, "/api/rooms/"+url.PathEscape("a/b c?#%")+"/messages", http.StatusOK, &odd)
	if odd.Room != "a/b c?#%" || len(odd.Entries) != 1 || odd.Entries[0].Text != "odd name" {
		t.Errorf("history of %q = %+v, want its one message", "a/b c?#%", odd)
	}
}

func TestMessagesErrors(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{})
	tests := []struct {
		path   string
		status int
	}{
		{"/api/rooms/nowhere/messages", http.StatusNotFound},
		{"/api/rooms/General/messages", http.StatusNotFound}, // names are case-sensitive
		{"/api/rooms/general/messages?limit=0", http.StatusBadRequest},
		{"/api/rooms/general/messages?limit=201", http.StatusBadRequest},
		{"/api/rooms/general/messages?limit=-1", http.StatusBadRequest},
		{"/api/rooms/general/messages?limit=x", http.StatusBadRequest},
		{"/api/rooms/general/messages?limit=1.5", http.StatusBadRequest},
		{"/api/rooms/general/messages?before=x", http.StatusBadRequest},
		{"/api/rooms/general/messages?before=-1", http.StatusBadRequest},
		{"/api/rooms/general/messages?after=x", http.StatusBadRequest},
		{"/api/rooms/general/messages?after=-1", http.StatusBadRequest},
		{"/api/rooms/general/messages?after=99999999999999999999", http.StatusBadRequest},
		{"/api/rooms/general/messages?after=5&before=5", http.StatusBadRequest},
		{"/api/rooms/general/messages?after=6&before=5", http.StatusBadRequest},
		{"/api/rooms/nowhere/messages?limit=x", http.StatusBadRequest},
		{"/api/history?limit=0", http.StatusBadRequest},
		{"/api/history?before=x", http.StatusBadRequest},
	}
	for _, tt := range tests {
		var e errorBody
		ts.getJSON(t, tt.path, tt.status, &e)
		if e.Error.Code == "" || e.Error.Message == "" {
			t.Errorf("GET %s = %+v, want an error code and message", tt.path, e)
		}
	}
}

func TestHistory(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{})
	var resp entriesResponse
	ts.getJSON(t, "/api/history", http.StatusOK, &resp)
	if resp.Room != "general" || resp.Entries == nil || len(resp.Entries) != 0 {
		t.Errorf("GET /api/history = %+v, want general with an empty list", resp)
	}

	for i := 1; i <= 5; i++ {
		ts.mustAppend(t, "general", "ana", fmt.Sprintf("c-%d", i), fmt.Sprintf("message %d", i))
	}
	for _, query := range []string{"", "?limit=2", "?before=3", "?after=3", "?after=1&before=4&limit=1"} {
		var history, general entriesResponse
		ts.getJSON(t, "/api/history"+query, http.StatusOK, &history)
		ts.getJSON(t, "/api/rooms/general/messages"+query, http.StatusOK, &general)
		a, _ := json.Marshal(history)
		b, _ := json.Marshal(general)
		if string(a) != string(b) || len(history.Entries) == 0 {
			t.Errorf("GET /api/history%s = %s, want the same as /api/rooms/general/messages%[1]s: %s", query, a, b)
		}
	}
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{})
	for _, path := range []string{
		"/api",
		"/api/",
		"/api/nope",
		"/api/rooms/nowhere",
		"/api/rooms/general/messages/1",
		"/api/health/more",
		"/api/rooms//messages",
	} {
		var e errorBody
		ts.getJSON(t, path, http.StatusNotFound, &e)
		if e.Error.Code != "not_found" || e.Error.Message == "" {
			t.Errorf("GET %s = %+v, want code not_found and a message", path, e)
		}
	}
}

func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{})
	tests := []struct{ method, path string }{
		{http.MethodPost, "/api/health"},
		{http.MethodPost, "/api/ready"},
		{http.MethodDelete, "/api/rooms"},
		{http.MethodDelete, "/api/rooms/general/messages"},
		{http.MethodPut, "/api/history"},
		{http.MethodPost, "/ws"},
	}
	for _, tt := range tests {
		resp, body := ts.get(t, tt.method, tt.path)
		var e errorBody
		if err := json.Unmarshal(body, &e); err != nil || resp.StatusCode != http.StatusMethodNotAllowed || e.Error.Code == "" || e.Error.Message == "" {
			t.Errorf("%s %s = %d %s, want 405 with a JSON error", tt.method, tt.path, resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s %s: Content-Type = %q, want application/json", tt.method, tt.path, ct)
		}
		if allow := resp.Header.Get("Allow"); !strings.Contains(allow, "GET") {
			t.Errorf("%s %s: Allow = %q, want GET allowed", tt.method, tt.path, allow)
		}
	}
}

func TestUI(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{})
	for _, path := range []string{"/", "/index.html", "/rooms/general", "/apix"} {
		resp, body := ts.get(t, http.MethodGet, path)
		if resp.StatusCode != http.StatusOK || string(body) != "ui "+path {
			t.Errorf("GET %s = %d %q, want the UI's answer", path, resp.StatusCode, body)
		}
	}
}

// TestResponsesHaveAWriteDeadline: a client that asks for a large answer
// and never reads it does not hold the handler once the write timeout has
// passed.
func TestResponsesHaveAWriteDeadline(t *testing.T) {
	t.Parallel()
	const buffer = 8 << 10
	ts := newTestServer(t, serverConfig{writeBuffer: buffer, opts: httpapi.Options{WriteTimeout: time.Second}})
	text := strings.Repeat("x", parley.MaxTextBytes)
	for i := range parley.MaxPageSize {
		ts.mustAppend(t, parley.DefaultRoom, "ana", fmt.Sprint("c-", i), text)
	}
	// A client with a small receive buffer that sends its request and
	// reads nothing: the page of about 800 KB cannot be written to it.
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.(*net.TCPConn).SetReadBuffer(buffer)
	fmt.Fprintf(conn, "GET /api/rooms/general/messages?limit=%d HTTP/1.1\r\nHost: x\r\n\r\n", parley.MaxPageSize)
	// The first byte of the answer says the handler is writing it (EOF,
	// that it has given up already: on a busy machine, reading the page
	// may take all the time the deadline allows); then the client reads
	// no more.
	conn.SetReadDeadline(time.Now().Add(waitTime))
	if _, err := conn.Read(make([]byte, 1)); err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("read the first byte of the answer: %v", err)
	}

	done := make(chan struct{})
	go func() {
		ts.handlers.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(waitTime):
		t.Fatalf("the handler still writes to a client that does not read, %v after a write timeout of 1s", waitTime)
	}
}

// TestRoomsInPages: GET /api/rooms answers a page at a time, with the
// cursor of the next page until the last, and refuses a bad limit.
func TestRoomsInPages(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverConfig{})
	want := []string{"general"}
	for i := range 6 {
		name := fmt.Sprintf("room %d", i)
		if _, err := ts.store.EnsureRoom(t.Context(), name); err != nil {
			t.Fatal(err)
		}
		want = append(want, name)
	}
	slices.Sort(want)
	var got []string
	path := "/api/rooms?limit=3"
	for pages := 0; ; pages++ {
		if pages > len(want) {
			t.Fatalf("GET /api/rooms gave more pages than there are rooms")
		}
		var resp struct {
			Rooms []roomInfo `json:"rooms"`
			Next  string     `json:"next"`
		}
		ts.getJSON(t, path, http.StatusOK, &resp)
		if len(resp.Rooms) > 3 {
			t.Fatalf("GET %s = %d rooms, want at most 3", path, len(resp.Rooms))
		}
		for _, r := range resp.Rooms {
			got = append(got, r.Name)
		}
		if resp.Next == "" {
			break
		}
		if last := resp.Rooms[len(resp.Rooms)-1].Name; resp.Next != last {
			t.Errorf("GET %s: next = %q, want the last room's name %q", path, resp.Next, last)
		}
		path = "/api/rooms?limit=3&after=" + url.QueryEscape(resp.Next)
	}
	if !slices.Equal(got, want) {
		t.Errorf("GET /api/rooms in pages of 3 = %q, want %q", got, want)
	}
	for _, bad := range []string{"limit=0", "limit=201", "limit=x"} {
		var e errorBody
		ts.getJSON(t, "/api/rooms?"+bad, http.StatusBadRequest, &e)
		if e.Error.Code != "invalid_page" {
			t.Errorf("GET /api/rooms?%s: code %q, want invalid_page", bad, e.Error.Code)
		}
	}
}
