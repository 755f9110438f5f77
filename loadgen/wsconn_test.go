package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// frame builds a server frame (unmasked).
func frame(fin bool, op byte, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	b := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		b = append(b, byte(n))
	case n <= 0xFFFF:
		b = append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, payload...)
}

func TestParseFrame(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 300)
	huge := bytes.Repeat([]byte("y"), 70000)
	for _, tc := range []struct {
		name    string
		in      []byte
		n       int // 0: incomplete
		payload []byte
		err     bool
	}{
		{"empty", nil, 0, nil, false},
		{"short text", frame(true, opText, []byte("hi")), 4, []byte("hi"), false},
		{"16-bit length", frame(true, opText, long), 304, long, false},
		{"64-bit length", frame(true, opBinary, huge), 70010, huge, false},
		{"header only", frame(true, opText, long)[:3], 0, nil, false},
		{"payload cut", frame(true, opText, long)[:100], 0, nil, false},
		{"masked", []byte{0x81, 0x82, 1, 2, 3, 4, 'h', 'i'}, 0, nil, true},
		{"reserved bit", []byte{0xC1, 0x00}, 0, nil, true},
		{"long ping", frame(true, opPing, long), 0, nil, true},
		{"fragmented close", frame(false, opClose, []byte{3, 232}), 0, nil, true},
		{"too large", []byte{0x82, 127, 0, 0, 0, 0, 0x7F, 0, 0, 0}, 0, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, payload, n, err := parseFrame(tc.in)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error %v", err, tc.err)
			}
			if n != tc.n || !bytes.Equal(payload, tc.payload) {
				t.Fatalf("n = %d, payload %d bytes; want %d, %d bytes", n, len(payload), tc.n, len(tc.payload))
			}
		})
	}
}

// TestHandleByteByByte feeds a stream of frames one byte at a time, as
// reads may split it anywhere: every message comes out whole, once, in
// order, fragmented ones joined, pings answered in between.
func TestHandleByteByByte(t *testing.T) {
	var stream []byte
	stream = append(stream, frame(true, opText, []byte("one"))...)
	stream = append(stream, frame(false, opText, []byte("tw"))...)
	stream = append(stream, frame(true, opPing, []byte("p"))...)
	stream = append(stream, frame(false, opContinuation, []byte("o "))...)
	stream = append(stream, frame(true, opContinuation, bytes.Repeat([]byte("2"), 200))...)
	stream = append(stream, frame(true, opPong, nil)...)
	stream = append(stream, frame(true, opText, []byte("three"))...)
	want := []string{"one", "two " + strings.Repeat("2", 200), "three"}

	c := &wsconn{done: make(chan error, 1)}
	var got, pings []string
	c.deliver = func(m []byte) { got = append(got, string(m)) }
	c.ping = func(p []byte) { pings = append(pings, string(p)) }
	for _, b := range stream {
		c.grow()
		c.in = append(c.in, b)
		c.received(nil)
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("messages %q, want %q", got, want)
	}
	if len(pings) != 1 || pings[0] != "p" {
		t.Errorf("pings %q, want [p]", pings)
	}
	if c.in != nil {
		t.Errorf("%d bytes left after whole frames, want none and the buffer released", len(c.in))
	}
}

func TestHandleProtocolErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stream [][]byte
		code   int // a close frame's; 0 for a protocol error
	}{
		{"close with code", [][]byte{frame(true, opClose, append([]byte{0x0F, 0xA0}, "too slow"...))}, 4000},
		{"close without code", [][]byte{frame(true, opClose, nil)}, 1005},
		{"continuation first", [][]byte{frame(true, opContinuation, []byte("x"))}, 0},
		{"new message inside another", [][]byte{frame(false, opText, []byte("a")), frame(true, opText, []byte("b"))}, 0},
		{"unknown opcode", [][]byte{frame(true, 0x3, nil)}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &wsconn{done: make(chan error, 1), nc: nopConn{}}
			c.deliver = func([]byte) {}
			c.ping = func([]byte) {}
			for _, f := range tc.stream {
				c.grow()
				c.in = append(c.in, f...)
				c.received(nil)
			}
			var err error
			select {
			case err = <-c.done:
			default:
				t.Fatal("the connection did not end")
			}
			var ce *closeError
			switch {
			case tc.code != 0 && (!errors.As(err, &ce) || ce.Code != tc.code):
				t.Errorf("ended with %v, want close code %d", err, tc.code)
			case tc.code == 0 && errors.As(err, &ce):
				t.Errorf("ended with %v, want a protocol error", err)
			}
			if !c.closed {
				t.Error("not closed")
			}
		})
	}
}

// nopConn stands in for a connection whose socket was never opened.
type nopConn struct{ net.Conn }

func (nopConn) Close() error { return nil }

// ping is the payload of the ping that comes before the echo of msg.
func ping(msg string) string { return fmt.Sprintf("ping %d", len(msg)) }

// echoServer upgrades with gorilla's server, which checks that the client
// masks its frames, answers each text message with a ping and then the
// message, in two fragments, and ends with close code 4000 on "bye".
func echoServer(t *testing.T, pongs chan<- string) *url.URL {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		ws.SetPongHandler(func(p string) error { pongs <- p; return nil })
		for {
			_, msg, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if string(msg) == "bye" {
				ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4000, "too slow"))
				continue
			}
			ws.WriteMessage(websocket.PingMessage, []byte(ping(string(msg))))
			half := len(msg) / 2
			ws.UnderlyingConn().Write(append(frame(false, opText, msg[:half]), frame(true, opContinuation, msg[half:])...))
		}
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse("ws" + strings.TrimPrefix(srv.URL, "http") + "/ws")
	return u
}

// recv receives from ch, failing the test if nothing comes for a long
// while rather than hanging it.
func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatal("nothing received in 30 s")
		panic("unreachable")
	}
}

// TestWatchEcho runs a connection through a real WebSocket server: the
// handshake, masked frames out, a fragmented message and a ping in while
// reading for the connection's first phase, then the same watched, and a
// close code.
func TestWatchEcho(t *testing.T) {
	pongs := make(chan string, 10)
	u := echoServer(t, pongs)
	c, err := dialWS(context.Background(), &net.Dialer{}, u)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("a", 1000)
	if err := c.writeMessage([]byte(long), writeTimeout); err != nil {
		t.Fatal(err)
	}
	msg, err := c.readMessage(nil, writeTimeout)
	if err != nil || string(msg) != long {
		t.Fatalf("read %d bytes, %v; want the %d sent", len(msg), err, len(long))
	}
	if p := recv(t, pongs); p != ping(long) {
		t.Errorf("pong %q", p)
	}

	// Writes are serialized by their caller, as a member's wmu does.
	var wmu sync.Mutex
	write := func(op byte, p []byte) error {
		wmu.Lock()
		defer wmu.Unlock()
		return c.writeFrame(op, p, writeTimeout)
	}
	got := make(chan string, 10)
	err = watch(c, func(m []byte) { got <- string(m) }, func(p []byte) {
		go write(opPong, append([]byte(nil), p...))
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"x", long + "b"} {
		if err := write(opText, []byte(text)); err != nil {
			t.Fatal(err)
		}
		if m := recv(t, got); m != text {
			t.Errorf("watched message of %d bytes, want %d", len(m), len(text))
		}
		if p := recv(t, pongs); p != ping(text) {
			t.Errorf("pong %q, want %q", p, ping(text))
		}
	}
	if err := write(opText, []byte("bye")); err != nil {
		t.Fatal(err)
	}
	var ce *closeError
	if err := recv(t, c.done); !errors.As(err, &ce) || ce.Code != 4000 {
		t.Errorf("ended with %v, want close code 4000", err)
	}
	if err := c.writeMessage([]byte("after"), writeTimeout); err == nil {
		t.Error("a write after the end succeeded")
	}
}

func TestDialRefused(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"not an upgrade", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "no", http.StatusForbidden)
		}, "bad status 403"},
		{"wrong accept key", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Upgrade", "websocket")
			w.Header().Set("Connection", "Upgrade")
			w.Header().Set("Sec-WebSocket-Accept", acceptKey("another key"))
			w.WriteHeader(http.StatusSwitchingProtocols)
		}, "bad Sec-WebSocket-Accept"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			u, _ := url.Parse("ws" + strings.TrimPrefix(srv.URL, "http"))
			_, err := dialWS(context.Background(), &net.Dialer{}, u)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("dial: %v, want %q", err, tc.want)
			}
		})
	}
}

func TestAcceptKey(t *testing.T) {
	// The example of RFC 6455, section 1.3.
	if got := acceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Errorf("acceptKey = %q", got)
	}
}
