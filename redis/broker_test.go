package redis

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/redistest"
)

func TestMain(m *testing.M) {
	SetLibraryLogger(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

// The tests of this package run against real Redis servers, which
// redistest starts. They wait for what they expect on channels, each wait
// bounded by waitTimeout, never for a fixed time.

// waitTimeout bounds every wait for Redis: far more than anything takes on
// a loaded machine, so that only a bug reaches it.
const waitTimeout = 20 * time.Second

// logs records a broker's log messages, so that a test can wait for one.
type logs struct {
	mu      sync.Mutex
	msgs    []string      // guarded by mu
	changed chan struct{} // closed and replaced at every message; guarded by mu
}

func newLogs() *logs { return &logs{changed: make(chan struct{})} }

func (l *logs) Enabled(context.Context, slog.Level) bool { return true }
func (l *logs) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logs) WithGroup(string) slog.Handler            { return l }

func (l *logs) Handle(_ context.Context, r slog.Record) error {
	var attrs []string
	r.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, a.String())
		return true
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Message+" "+strings.Join(attrs, " "))
	close(l.changed)
	l.changed = make(chan struct{})
	return nil
}

// count returns how many messages begin with prefix.
func (l *logs) count(prefix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.msgs, "\n")
}

// wait waits until n messages begin with prefix.
func (l *logs) wait(t *testing.T, prefix string, n int) {
	t.Helper()
	timeout := time.After(waitTimeout)
	for {
		l.mu.Lock()
		changed := l.changed
		l.mu.Unlock()
		if l.count(prefix) >= n {
			return
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("no %d log messages %q within %v; the log:\n%s", n, prefix, waitTimeout, l)
		}
	}
}

// replica is a broker under test, running until the test ends.
type replica struct {
	*Broker
	logs *logs
}

// startBroker returns a broker for the Redis at url, running until the
// test ends; tune, when not nil, changes it before it runs.
func startBroker(t *testing.T, url string, tune func(*Broker)) *replica {
	t.Helper()
	l := newLogs()
	b, err := NewBroker(url, slog.New(l))
	if err != nil {
		t.Fatalf("NewBroker(%q) = %v", url, err)
	}
	if tune != nil {
		tune(b)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run() = %v, want nil", err)
			}
		case <-time.After(waitTimeout):
			t.Errorf("Run() did not return within %v of its context's end", waitTimeout)
		}
		if err := b.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
		if t.Failed() {
			t.Logf("the broker's log:\n%s", l)
		}
	})
	return &replica{b, l}
}

// inbox is a subscriber: it keeps what deliver is called with, nil
// included.
type inbox struct {
	name string
	ch   chan []byte
}

func newInbox(name string) *inbox { return &inbox{name: name, ch: make(chan []byte, 10000)} }

func (in *inbox) deliver(msg []byte) { in.ch <- msg }

// next returns the next publication delivered, nil for a catch-up signal.
func (in *inbox) next(t *testing.T) []byte {
	t.Helper()
	select {
	case msg := <-in.ch:
		return msg
	case <-time.After(waitTimeout):
		t.Fatalf("%s: nothing delivered within %v", in.name, waitTimeout)
		return nil
	}
}

// want fails the test unless the next publications are msgs, catch-up
// signals aside.
func (in *inbox) want(t *testing.T, msgs ...string) {
	t.Helper()
	for _, want := range msgs {
		got := in.next(t)
		for got == nil {
			got = in.next(t)
		}
		if string(got) != want {
			t.Fatalf("%s: delivered %q, want %q", in.name, got, want)
		}
	}
}

// subscribed waits for the catch-up signal that says that the
// subscription is in place.
func (in *inbox) subscribed(t *testing.T) {
	t.Helper()
	if got := in.next(t); got != nil {
		t.Fatalf("%s: delivered %q before the signal that the subscription is in place", in.name, got)
	}
}

// empty fails the test if anything but catch-up signals waits.
func (in *inbox) empty(t *testing.T) {
	t.Helper()
	for {
		select {
		case msg := <-in.ch:
			if msg != nil {
				t.Errorf("%s: delivered %q, want nothing", in.name, msg)
			}
		default:
			return
		}
	}
}

func mustPublish(t *testing.T, b *replica, room, msg string) {
	t.Helper()
	if err := b.Publish(context.Background(), room, []byte(msg)); err != nil {
		t.Fatalf("Publish(%q, %q) = %v", room, msg, err)
	}
}

// client returns a plain go-redis client of the server, to look at it.
func client(t *testing.T, srv *redistest.Server) *goredis.Client {
	t.Helper()
	opts, err := goredis.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

// waitFor polls Redis until cond holds. Redis is another process: there is
// nothing to wait on but its answers.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not %s within %v", what, waitTimeout)
		}
		time.Sleep(10 * time.Millisecond) // between polls of another process
	}
}

// subscribers returns how many connections Redis has subscribed to room.
func subscribers(t *testing.T, c *goredis.Client, room string) int64 {
	t.Helper()
	n, err := c.PubSubNumSub(context.Background(), channelName(room)).Result()
	if err != nil {
		t.Fatalf("PUBSUB NUMSUB: %v", err)
	}
	return n[channelName(room)]
}

// TestPublishSubscribe: a publication reaches the subscribers of its room
// on both replicas, byte for byte, once, and in order.
func TestPublishSubscribe(t *testing.T) {
	srv := redistest.Start(t)
	a, b := startBroker(t, srv.URL(), nil), startBroker(t, srv.URL(), nil)
	inA, inB := newInbox("a"), newInbox("b")
	defer a.Subscribe("general", inA.deliver)()
	defer b.Subscribe("general", inB.deliver)()
	inA.subscribed(t)
	inB.subscribed(t)

	binary := "7 {\"type\":\"message\"}\x00\xff\n"
	mustPublish(t, a, "general", "1 one")
	mustPublish(t, a, "general", binary)
	// A replica's own publications reach its subscribers at once, and
	// the others' through Redis: b publishes once it has a's.
	inB.want(t, "1 one", binary)
	mustPublish(t, b, "general", "2 two")
	inB.want(t, "2 two")
	// a's own publications reach it once, directly: its echo from Redis,
	// which would come before b's, is dropped.
	inA.want(t, "1 one", binary, "2 two")
	inA.empty(t)
	inB.empty(t)
}

// TestUnsubscribe: a subscriber gets nothing after it unsubscribes; the
// room's channel stays subscribed while another local subscriber has it,
// and is unsubscribed in Redis when the last one leaves.
func TestUnsubscribe(t *testing.T) {
	srv := redistest.Start(t)
	c := client(t, srv)
	a, b := startBroker(t, srv.URL(), nil), startBroker(t, srv.URL(), nil)
	first, second := newInbox("first"), newInbox("second")
	unFirst := b.Subscribe("general", first.deliver)
	first.subscribed(t)
	unSecond := b.Subscribe("general", second.deliver)
	if n := subscribers(t, c, "general"); n != 1 {
		t.Errorf("Redis has %d subscribers of general, want 1 for both local ones", n)
	}

	unFirst()
	unFirst() // again: nothing
	mustPublish(t, a, "general", "1 after first left")
	second.want(t, "1 after first left")
	first.empty(t)

	unSecond()
	waitFor(t, "unsubscribed in Redis", func() bool { return subscribers(t, c, "general") == 0 })
	mustPublish(t, a, "general", "2 after both left")
	// Subscribed again, the room gets what comes next, and not what came
	// before.
	third := newInbox("third")
	defer b.Subscribe("general", third.deliver)()
	third.subscribed(t)
	mustPublish(t, a, "general", "3 subscribed again")
	third.want(t, "3 subscribed again")
	first.empty(t)
	second.empty(t)
}

// TestManyRooms: each of many rooms gets its own publications only, all
// over one pub/sub connection.
func TestManyRooms(t *testing.T) {
	srv := redistest.Start(t)
	c := client(t, srv)
	a, b := startBroker(t, srv.URL(), nil), startBroker(t, srv.URL(), nil)
	const rooms = 300
	inboxes := make([]*inbox, rooms)
	for i := range rooms {
		inboxes[i] = newInbox(fmt.Sprint("room ", i))
		defer b.Subscribe(fmt.Sprint("room ", i), inboxes[i].deliver)()
	}
	for _, in := range inboxes {
		in.subscribed(t)
	}
	for i := range rooms {
		mustPublish(t, a, fmt.Sprint("room ", i), fmt.Sprint(i))
	}
	for i, in := range inboxes {
		in.want(t, fmt.Sprint(i))
		in.empty(t)
	}
	list, err := c.ClientList(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	var pubsub []string
	for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
		if strings.Contains(line, " sub=") && !strings.Contains(line, " sub=0 ") {
			pubsub = append(pubsub, line)
		}
	}
	if len(pubsub) != 1 || !strings.Contains(pubsub[0], fmt.Sprintf(" sub=%d ", rooms)) {
		t.Errorf("Redis's subscribed clients:\n%s\nwant one, subscribed to %d channels", strings.Join(pubsub, "\n"), rooms)
	}
}

// oddNames are room names that a channel name must hold apart.
var oddNames = []string{
	"general", "General", "with space", "a:b", "a%3Ab", "%41", "A", "*", "?", "[ab]", "a*b",
	"parley:room:general", `back\slash`, "ünïcödé", "日本語", "emoji 🎉", "tab\tname", "dot.dash-under_tilde~",
	strings.Repeat("long", 20),
}

// TestOddRoomNames: rooms whose names hold any printable character, glob
// characters and percent signs included, each get their own publications.
func TestOddRoomNames(t *testing.T) {
	srv := redistest.Start(t)
	a, b := startBroker(t, srv.URL(), nil), startBroker(t, srv.URL(), nil)
	inboxes := make([]*inbox, len(oddNames))
	for i, name := range oddNames {
		inboxes[i] = newInbox(name)
		defer b.Subscribe(name, inboxes[i].deliver)()
	}
	for _, in := range inboxes {
		in.subscribed(t)
	}
	for _, name := range oddNames {
		mustPublish(t, a, name, "to "+name)
	}
	for _, in := range inboxes {
		in.want(t, "to "+in.name)
		in.empty(t)
	}
}

// TestChannelName: every room has a channel of its own, which holds only
// printable ASCII without spaces, and no ':' or glob character after the
// prefix.
func TestChannelName(t *testing.T) {
	seen := make(map[string]string)
	for _, name := range oddNames {
		ch := channelName(name)
		if other, ok := seen[ch]; ok {
			t.Errorf("channelName(%q) = channelName(%q) = %q", name, other, ch)
		}
		seen[ch] = name
		rest, ok := strings.CutPrefix(ch, channelPrefix)
		if !ok {
			t.Errorf("channelName(%q) = %q, want the prefix %q", name, ch, channelPrefix)
		}
		if i := strings.IndexFunc(rest, func(r rune) bool { return r <= ' ' || r > '~' || strings.ContainsRune(`:*?[]\`, r) }); i >= 0 {
			t.Errorf("channelName(%q) = %q, which holds %q", name, ch, rest[i])
		}
	}
	if got := channelName("日本"); got != "parley:room:%E6%97%A5%E6%9C%AC" {
		t.Errorf(`channelName("日本") = %q, want its UTF-8 bytes percent-encoded`, got)
	}
}

// TestRedisRestart: when Redis restarts, the brokers reconnect and
// subscribe again by themselves, say so in their logs, tell their
// subscribers to catch up, and carry what is published next. What is
// published while Redis is down reaches the publishing replica's own
// subscribers, and Publish says that it went no further.
func TestRedisRestart(t *testing.T) {
	srv := redistest.Start(t)
	a, b := startBroker(t, srv.URL(), nil), startBroker(t, srv.URL(), nil)
	inA, inB := newInbox("a"), newInbox("b")
	defer a.Subscribe("general", inA.deliver)()
	defer b.Subscribe("general", inB.deliver)()
	inA.subscribed(t)
	inB.subscribed(t)
	mustPublish(t, a, "general", "1 before")
	inB.want(t, "1 before")
	inA.want(t, "1 before")

	for i := range 2 { // twice: the second outage finds the state the first left
		srv.Stop()
		a.logs.wait(t, "redis connection lost", i+1)
		b.logs.wait(t, "redis connection lost", i+1)
		if err := a.Ping(context.Background()); err == nil {
			t.Error("Ping() with Redis stopped = nil, want an error")
		}
		if err := a.Publish(context.Background(), "general", []byte("2 while down")); err == nil {
			t.Error("Publish() with Redis stopped = nil, want an error")
		}
		inA.want(t, "2 while down")
		inA.empty(t)

		srv.Restart()
		a.logs.wait(t, "redis connection back", i+1)
		b.logs.wait(t, "redis connection back", i+1)
		inA.subscribed(t)
		inB.subscribed(t)
		inB.empty(t) // the publication while down is lost to b: the store has it
		if err := a.Ping(context.Background()); err != nil {
			t.Errorf("Ping() once Redis is back = %v", err)
		}
		mustPublish(t, a, "general", "3 after")
		inB.want(t, "3 after")
		mustPublish(t, b, "general", "4 after")
		inB.want(t, "4 after")
		inA.want(t, "3 after", "4 after")
	}
}

// TestRunBeforeRedis: a broker started while Redis is down connects once
// it is up, and subscribes what was subscribed meanwhile.
func TestRunBeforeRedis(t *testing.T) {
	srv := redistest.Start(t)
	srv.Stop()
	a, b := startBroker(t, srv.URL(), nil), startBroker(t, srv.URL(), nil)
	inB := newInbox("b")
	defer b.Subscribe("general", inB.deliver)()
	b.logs.wait(t, "redis connection lost", 1)
	srv.Restart()
	inB.subscribed(t)
	b.logs.wait(t, "redis connection back", 1)
	mustPublish(t, a, "general", "1 hello")
	inB.want(t, "1 hello")
}

// proxy forwards connections to a Redis socket until freeze is called:
// then the connections it has stop carrying anything, without closing, as
// connections through a network that has dropped them do. New connections
// are carried again.
type proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	conns []*proxied // guarded by mu
}

type proxied struct {
	mu     sync.Mutex
	frozen bool // guarded by mu
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "proxy.sock"))
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r, err := net.Dial("unix", target)
			if err != nil {
				c.Close()
				continue
			}
			pc := new(proxied)
			p.mu.Lock()
			p.conns = append(p.conns, pc)
			p.mu.Unlock()
			closeBoth := sync.OnceFunc(func() {
				c.Close()
				r.Close()
			})
			wg.Go(func() { pc.copy(r, c); closeBoth() })
			wg.Go(func() { pc.copy(c, r); closeBoth() })
			context.AfterFunc(t.Context(), closeBoth)
		}
	})
	return p
}

// copy copies from src to dst until either fails, dropping what it reads
// once frozen.
func (pc *proxied) copy(dst io.Writer, src io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			return
		}
		pc.mu.Lock()
		frozen := pc.frozen
		pc.mu.Unlock()
		if frozen {
			continue
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			return
		}
	}
}

func (p *proxy) url() string { return "unix://" + p.ln.Addr().String() }

func (p *proxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pc := range p.conns {
		pc.mu.Lock()
		pc.frozen = true
		pc.mu.Unlock()
	}
}

// TestDeadConnection: a pub/sub connection that carries nothing more, not
// even the pong of a ping, is dropped and made again, with the
// subscriptions and a catch-up signal.
func TestDeadConnection(t *testing.T) {
	srv := redistest.Start(t)
	p := startProxy(t, srv.Socket())
	a := startBroker(t, srv.URL(), nil)
	b := startBroker(t, p.url(), func(b *Broker) {
		b.idleTimeout = 20 * time.Millisecond
		b.pongTimeout = 200 * time.Millisecond
	})
	inB := newInbox("b")
	defer b.Subscribe("general", inB.deliver)()
	inB.subscribed(t)
	mustPublish(t, a, "general", "1 before")
	inB.want(t, "1 before")
	// Idle, the connection is pinged, and stays.
	waitPings(t, b, 3)
	if n := b.logs.count("redis connection lost"); n != 0 {
		t.Fatalf("an idle connection that answers pings was taken for lost:\n%s", b.logs)
	}

	p.freeze()
	b.logs.wait(t, "redis connection lost", 1)
	b.logs.wait(t, "redis connection back", 1)
	inB.subscribed(t)
	mustPublish(t, a, "general", "2 after")
	inB.want(t, "2 after")
}

// waitPings waits until the Redis behind b has answered n of b's pings on
// its pub/sub connection.
func waitPings(t *testing.T, b *replica, n int) {
	t.Helper()
	c := goredis.NewClient(b.client.Options())
	defer c.Close()
	waitFor(t, fmt.Sprintf("%d pings answered", n), func() bool {
		stats, err := c.Info(context.Background(), "commandstats").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(stats, "\n") {
			if rest, ok := strings.CutPrefix(line, "cmdstat_ping:calls="); ok {
				var calls int
				fmt.Sscanf(rest, "%d", &calls)
				return calls >= n
			}
		}
		return false
	})
}

// TestNewBrokerErrors: a bad URL is refused, and the error does not repeat
// the password it may hold.
func TestNewBrokerErrors(t *testing.T) {
	for _, url := range []string{
		"http://localhost:6379",
		"redis://user:hunter2@localhost:6379/notanumber",
		"redis://user:hunter2@local host:6379",
		"redis://:hunter2@[::1:6379",
		"unix://",
	} {
		_, err := NewBroker(url, slog.New(newLogs()))
		if err == nil {
			t.Errorf("NewBroker(%q) = nil error, want one", url)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("NewBroker(%q) = %q, which shows the password", url, err)
		}
	}
}

// TestMalformedPublicationIsDropped: a publication that no broker sent
// (it has no origin) is dropped, and logged.
func TestMalformedPublicationIsDropped(t *testing.T) {
	srv := redistest.Start(t)
	c := client(t, srv)
	a, b := startBroker(t, srv.URL(), nil), startBroker(t, srv.URL(), nil)
	inB := newInbox("b")
	defer b.Subscribe("general", inB.deliver)()
	inB.subscribed(t)
	for _, payload := range []string{"", "short", "0123456789abcdefX1 no space after the origin"} {
		if err := c.Publish(context.Background(), channelName("general"), payload).Err(); err != nil {
			t.Fatal(err)
		}
	}
	mustPublish(t, a, "general", "1 marker")
	inB.want(t, "1 marker")
	if n := b.logs.count("dropping a publication without origin"); n != 3 {
		t.Errorf("dropped %d publications without origin, want 3:\n%s", n, b.logs)
	}
	inB.empty(t)
}
