package cluster

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/protocol"
)

// client is one WebSocket client, used by one goroutine.
type client struct {
	t    *testing.T
	conn *websocket.Conn
	nick string
	seen []protocol.Event
}

// dial opens a WebSocket to addr as a browser page of origin would.
func dial(t *testing.T, addr, origin string) *client {
	t.Helper()
	header := http.Header{}
	if origin != "" {
		header.Set("Origin", origin)
	}
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", header)
	if err != nil {
		t.Fatalf("dial ws://%s/ws: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &client{t: t, conn: conn}
}

func (c *client) write(f protocol.Frame) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.TextMessage, f.Encode()); err != nil {
		c.t.Fatalf("write %s: %v", f.Encode(), err)
	}
}

// waitFor reads events until one matches, failing on an error event.
func (c *client) waitFor(what string, match func(protocol.Event) bool) protocol.Event {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	for {
		_, msg, err := c.conn.ReadMessage()
		if err != nil {
			c.t.Fatalf("%s: waiting for %s: %v", c.nick, what, err)
		}
		events, err := protocol.DecodeEvents(msg)
		if err != nil {
			c.t.Fatal(err)
		}
		for _, e := range events {
			c.seen = append(c.seen, e)
			if e.Type == protocol.EventError {
				c.t.Fatalf("%s: waiting for %s: error %s: %s", c.nick, what, e.Code, e.Message)
			}
			if match(e) {
				return e
			}
		}
	}
}

func (c *client) hello(nick string) protocol.Event {
	c.t.Helper()
	c.nick = nick
	c.write(protocol.Frame{Type: protocol.FrameHello, V: protocol.Version, Nick: nick})
	return c.waitFor("welcome", func(e protocol.Event) bool { return e.Type == protocol.EventWelcome })
}

func (c *client) join(room string) {
	c.t.Helper()
	zero := int64(0)
	c.write(protocol.Frame{Type: protocol.FrameJoin, Room: room, Since: &zero})
	c.waitFor("joined", func(e protocol.Event) bool { return e.Type == protocol.EventJoined })
}

func (c *client) send(room, clientID, text string) protocol.Event {
	c.t.Helper()
	c.write(protocol.Frame{Type: protocol.FrameSend, Room: room, ClientID: clientID, Text: text})
	return c.waitFor("ack of "+clientID, func(e protocol.Event) bool { return e.Type == protocol.EventAck && e.ClientID == clientID })
}

// TestNginxInFront runs deploy/nginx.conf in front of one replica: the
// WebSocket upgrade, the Origin check and the REST API all pass through.
func TestNginxInFront(t *testing.T) {
	r := startReplica(t, "-database", filepath.Join(t.TempDir(), "parley.db"))
	n := startNginx(t, []string{r.addr})

	ana := dial(t, n.addr, "http://"+n.addr) // a page served through nginx
	ana.hello("ana")
	ana.join("general")
	bob := dial(t, n.addr, "")
	bob.hello("bob")
	bob.join("general")
	for i := range 5 {
		ack := ana.send("general", fmt.Sprint("a-", i), fmt.Sprint("hello ", i))
		bob.waitFor(fmt.Sprint("message ", i), func(e protocol.Event) bool { return e.IsEntry() && e.Seq == ack.Seq })
	}
	var got []string
	for _, e := range bob.seen {
		if e.IsEntry() && e.Type == "message" {
			got = append(got, e.Text)
		}
	}
	if want := []string{"hello 0", "hello 1", "hello 2", "hello 3", "hello 4"}; !slices.Equal(got, want) {
		t.Errorf("bob received %q through nginx, want %q", got, want)
	}

	// A page of another origin is refused, through nginx too.
	header := http.Header{"Origin": {"https://evil.example"}}
	if conn, res, err := websocket.DefaultDialer.Dial("ws://"+n.addr+"/ws", header); err == nil {
		conn.Close()
		t.Error("a WebSocket from another origin was accepted through nginx")
	} else if res == nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("a WebSocket from another origin: %v, want 403", err)
	}
	waitHTTP(t, "http://"+n.addr+"/api/rooms/general/messages")
}
