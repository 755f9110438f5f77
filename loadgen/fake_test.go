package loadgen

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/parley-chat/parley/protocol"
)

// fake is a small server that speaks enough of docs/PROTOCOL.md for the
// generator (hello, join with since and replay, send, ack, fan-out) and
// breaks the delivery promise exactly where it is told to.
type fake struct {
	// fault decides what happens to the live delivery of entry seq to the
	// conn-th connection (counted from 0 in hello order): nil means deliver
	// it; otherwise the entries to write instead, all stored already (none
	// to drop it, seq twice to duplicate it, seq and then an earlier one
	// held back to reorder).
	fault func(conn int, seq int64) []int64
	// failSends is how many sends, the first ones, the fake refuses with an
	// internal error and does not store, as a server whose store is down.
	failSends int

	mu    sync.Mutex
	conns int
	rooms map[string]*fakeRoom
}

type fakeRoom struct {
	log  []string // log[i] is the frame of entry i+1
	subs []*fakeConn
}

type fakeConn struct {
	n    int
	nick string
	ws   *websocket.Conn
	wmu  sync.Mutex
}

func (c *fakeConn) write(frames ...string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ws.WriteMessage(websocket.TextMessage, []byte(strings.Join(frames, "\n")))
}

func newFake(t *testing.T, fault func(conn int, seq int64) []int64) string {
	t.Helper()
	return serveFake(t, &fake{fault: fault})
}

// serveFake serves f until t ends and returns its WebSocket address.
func serveFake(t *testing.T, f *fake) string {
	t.Helper()
	f.rooms = make(map[string]*fakeRoom)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer ws.Close()
	c := &fakeConn{ws: ws}
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		fr, err := protocol.DecodeFrame(data)
		if err != nil {
			return
		}
		switch fr.Type {
		case "hello":
			f.mu.Lock()
			c.n, c.nick = f.conns, fr.Nick
			f.conns++
			f.mu.Unlock()
			c.write(`{"type":"welcome","v":1,"nick":"` + fr.Nick + `","session":"s-` + fr.Nick + `","limits":{"maxTextBytes":4096}}`)
		case "join":
			f.mu.Lock()
			rm := f.rooms[fr.Room]
			if rm == nil {
				rm = &fakeRoom{}
				f.rooms[fr.Room] = rm
			}
			last := len(rm.log)
			frames := []string{fmt.Sprintf(`{"type":"joined","room":%q,"lastSeq":%d,"online":["x"]}`, fr.Room, last)}
			if fr.Since != nil {
				frames = append(frames, rm.log[*fr.Since:]...)
			}
			c.write(frames...)
			rm.subs = append(rm.subs, c)
			f.mu.Unlock()
		case "send":
			f.mu.Lock()
			if f.failSends > 0 {
				f.failSends--
				f.mu.Unlock()
				c.write(fmt.Sprintf(`{"type":"error","code":"internal","message":"Something went wrong.","room":%q,"clientId":%q}`, fr.Room, fr.ClientID))
				continue
			}
			rm := f.rooms[fr.Room]
			seq := int64(len(rm.log) + 1)
			rm.log = append(rm.log, fmt.Sprintf(`{"room":%q,"seq":%d,"type":"message","from":%q,"text":%q,"clientId":%q,"at":"2026-11-22T09:30:01.512Z"}`,
				fr.Room, seq, c.nick, fr.Text, fr.ClientID))
			c.write(fmt.Sprintf(`{"type":"ack","room":%q,"clientId":%q,"seq":%d,"at":"2026-11-22T09:30:01.512Z"}`, fr.Room, fr.ClientID, seq))
			for _, s := range rm.subs {
				f.deliverLocked(rm, s, seq)
			}
			f.mu.Unlock()
		}
	}
}

// deliverLocked sends entry seq to c, as f.fault says; f.mu is held.
func (f *fake) deliverLocked(rm *fakeRoom, c *fakeConn, seq int64) {
	seqs := []int64{seq}
	if f.fault != nil {
		if s := f.fault(c.n, seq); s != nil {
			seqs = s
		}
	}
	var frames []string
	for _, s := range seqs {
		frames = append(frames, rm.log[s-1])
	}
	if len(frames) > 0 {
		c.write(frames...)
	}
}
