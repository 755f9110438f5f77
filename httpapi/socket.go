package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/hub"
)

// Limits of the WebSocket endpoint, documented in docs/PROTOCOL.md.
const (
	maxFrameBytes  = 16 << 10         // a client frame; 1009 beyond
	frameRate      = 20               // frames a second on average
	frameBurst     = 40               // frames at once
	maxStrikes     = 20               // rate-limited frames in a row before 4001
	pingPeriod     = 30 * time.Second // the server pings an idle client this often
	pongWait       = 2 * pingPeriod   // a client silent this long is gone
	writeWait      = 10 * time.Second // time allowed for one write
	closeWait      = 2 * time.Second  // time for the client to answer a close
	maxBatchBytes  = 64 << 10         // bytes joined into one message at most
	maxPooledBytes = 16 << 10         // the largest message buffer kept for reuse
	quietAfter     = time.Second      // a connection without frames this long waits in await

	closeRateLimited = 4001
	closeNoHello     = 4002
)

// helloTimeout is the time to say hello; 4002 beyond. It is a variable only
// so that tests can shorten it.
var helloTimeout = 10 * time.Second

// writeBuffers is the WebSocket library's pool of write buffers, from which
// it takes none, as the socket frames its messages itself (writeMessage);
// without a pool, the library would keep the HTTP server's 4 KB write
// buffer for every connection.
var writeBuffers sync.Pool

// messageBuffers holds the buffers in which writeMessage assembles
// messages: a connection holds one only while it writes. Buffers that grew
// beyond maxPooledBytes, for a long replay page, are not kept.
var messageBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// handleSocket upgrades to a WebSocket and speaks docs/PROTOCOL.md. The
// handler itself waits for hello; then the connection runs in a reader
// goroutine of its own, and the handler returns. Writing needs no goroutine
// while there is nothing to write (see socket.Wake).
func handleSocket(logger *slog.Logger, store parley.Store, h *hub.Hub, opts *Options) http.Handler {
	upgrader := websocket.Upgrader{
		// Zero: the library reads through the buffer hijacker supplies.
		ReadBufferSize:  0,
		WriteBufferSize: 4096,
		WriteBufferPool: &writeBuffers,
		CheckOrigin:     checkOrigin(opts.AllowedOrigins),
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hj := &hijacker{ResponseWriter: w}
		conn, err := upgrader.Upgrade(hj, r, nil)
		if err != nil {
			return // the upgrader has answered with an HTTP error
		}
		conn.SetReadLimit(maxFrameBytes)
		s := &socket{
			conn: conn, nc: hj.conn, br: hj.br,
			logger: logger, store: store, hub: h, opts: opts, obs: opts.Observer,
			limiter: rate.NewLimiter(frameRate, frameBurst),
		}
		if s.hello() == nil {
			conn.Close()
			return
		}
		// net/http keeps a connection's buffers, and its goroutine's grown
		// stack, for as long as the handler runs: about 10 KB that an idle
		// WebSocket does not need. So the connection moves to a goroutine
		// of its own. The hub tracks it until Disconnect (see Hub.Wait).
		// Armed only once s.pinger is set, which ping uses.
		s.pinger = time.AfterFunc(pingPeriod, s.ping)
		s.pinger.Reset(pingPeriod)
		go s.serve()
	})
}

// serve reads a greeted connection until it ends, in this goroutine or in
// the one it hands on to. A failed write closes the connection, which ends
// the read too.
//
// A reader new to its goroutine, or whose last frame came more than
// quietAfter ago, waits in await, not in the library's read: a goroutine
// starts with a 2 KB stack, of which the library's read path, blocked,
// would need more than half, and the runtime would double it. An idle
// connection's reader so holds 2 KB of stack, not 4. A busy one reads
// straight on: waiting in await costs it a system call a frame, and its
// stack, shrunk between frames and grown again, more memory.
func (s *socket) serve() {
	c := s.client.Load()
	for first := true; ; first = false {
		if first || time.Since(s.lastFrame) > quietAfter {
			s.await()
		}
		more, handedOn := s.read(context.Background(), c)
		if handedOn {
			return // another goroutine reads on
		}
		if !more {
			break
		}
	}
	if s.sendClose(c) {
		// The hub closed the client while the reader handled a frame.
		s.drain()
	}
	s.ended.Store(true)
	s.pinger.Stop()
	s.conn.Close()
	c.Disconnect()
}

// checkOrigin allows requests without an Origin (programs), from the
// server's own origin, and from the allowed ones.
func checkOrigin(allowed []string) func(r *http.Request) bool {
	return func(r *http.Request) bool {
		origin := r.Header.Get("Origin")
		if origin == "" {
			return true
		}
		u, err := url.Parse(origin)
		if err != nil {
			return false
		}
		if strings.EqualFold(u.Host, r.Host) {
			return true
		}
		for _, a := range allowed {
			if strings.EqualFold(strings.TrimRight(a, "/"), origin) {
				return true
			}
		}
		return false
	}
}

// socket is one WebSocket connection. It is the hub.Conn of its client.
type socket struct {
	conn      *websocket.Conn
	nc        net.Conn      // conn's network connection
	br        *bufio.Reader // conn's read buffer
	logger    *slog.Logger
	store     parley.Store
	hub       *hub.Hub
	opts      *Options
	obs       Observer
	token     string        // the session's, once hello succeeded; reader only
	limiter   *rate.Limiter // used by the reader only
	strikes   int           // rate-limited frames in a row; reader only
	greeted   bool          // hello succeeded; reader only
	lastFrame time.Time     // when the last frame was read; reader only
	// client is set by hello once Connect returns. The hub may call Wake
	// before that (when it closes at once), so Wake's goroutine loads it.
	client atomic.Pointer[hub.Client]

	// One writer at a time: the reader writing a reply (Write), a flush
	// goroutine writing the queue, or a close. Pings may be written
	// alongside: a write to the network connection is never interleaved.
	wmu      sync.Mutex
	closing  atomic.Bool // a close frame is written: nothing more may be; set under wmu
	deadline int64       // the write deadline set, in Unix ns; guarded by wmu
	flushing atomic.Bool // a flush goroutine runs
	ended    atomic.Bool // the connection is over, or a write failed: nothing more to write
	frames   [][]byte    // the flush goroutine's buffer
	pinger   *time.Timer // pings the client every pingPeriod
}

// next reads the next frame, enforcing the rate limit. It returns nil when
// the connection is over, having sent a close frame where the protocol asks.
// A frame that is not valid comes back as a non-nil error to reply with.
func (s *socket) next() (*frame, error, bool) {
	typ, data, err := s.conn.ReadMessage()
	if err != nil {
		var ne interface{ Timeout() bool }
		switch {
		case errors.Is(err, websocket.ErrReadLimit):
			s.drain() // the library has sent close 1009
		case errors.As(err, &ne) && ne.Timeout() && !s.greeted:
			s.closeAndDrain(closeNoHello, "no hello")
		}
		return nil, nil, false
	}
	s.obs.FrameIn()
	if typ != websocket.TextMessage {
		s.closeAndDrain(websocket.CloseUnsupportedData, "binary messages are not supported")
		return nil, nil, false
	}
	if !s.limiter.Allow() {
		s.strikes++
		if s.strikes >= maxStrikes {
			s.closeAndDrain(closeRateLimited, "rate limited")
			return nil, nil, false
		}
		// Decode the dropped frame all the same, so that the error names
		// the send it refuses (nil when it is not a frame).
		f, _ := decodeFrame(data)
		return f, parley.CodeErrorf(parley.TooMany, "rate_limited", "Too many frames; this one was dropped. Slow down."), true
	}
	s.strikes = 0
	f, err := decodeFrame(data)
	return f, err, true
}

// closeWith sends a close frame, unless one was sent already, and reports
// whether it did; the client then closes the connection. No message is
// written after it.
func (s *socket) closeWith(code int, reason string) bool {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closing.Load() {
		return false
	}
	s.closing.Store(true)
	msg := websocket.FormatCloseMessage(code, reason)
	_ = s.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(writeWait))
	return true
}

// closeAndDrain sends a close frame, then drains the connection.
func (s *socket) closeAndDrain(code int, reason string) {
	s.closeWith(code, reason)
	s.drain()
}

// drain reads and discards what the client still sends until it closes the
// connection, for a short while at most. Closing a socket with unread data
// makes TCP reset it, and a reset may destroy the close frame on its way.
func (s *socket) drain() {
	nc := s.conn.NetConn()
	nc.SetReadDeadline(time.Now().Add(closeWait))
	io.Copy(io.Discard, nc)
}

// hello runs the connection until the client has said hello successfully,
// writing replies directly: the client is in no room yet, so nothing else
// writes. It returns nil when the connection ended first.
func (s *socket) hello() *hub.Client {
	s.conn.SetReadDeadline(time.Now().Add(helloTimeout))
	reply := func(v any) bool {
		return s.Write(context.Background(), marshal(v)) == nil
	}
	ctx := context.Background()
	for {
		f, ferr, ok := s.next()
		if !ok {
			return nil
		}
		var c *hub.Client
		var token string
		var created bool
		err := ferr
		switch {
		case err != nil:
		case f.Type != "hello":
			err = parley.CodeErrorf(parley.Invalid, "hello_required", "Say hello first.")
		case f.V != ProtocolVersion:
			err = parley.CodeErrorf(parley.Invalid, "unsupported_version", "This server speaks protocol version %d.", ProtocolVersion)
		default:
			var nick string
			nick, token, created, err = identify(ctx, s.store, s.opts, f)
			if err == nil {
				c, err = s.hub.Connect(nick, s)
			}
			if parley.KindOf(err) == parley.Unavailable {
				s.forget(token, created)
				s.closeAndDrain(hub.CloseGoingAway, "shutting down") // reconnect and resume
				return nil
			}
		}
		if err != nil {
			if !reply(s.errorEvent(err, "", "")) {
				return nil
			}
			continue
		}
		s.client.Store(c)
		select {
		case <-c.Done(): // closed already: a Wake may have found no client
			s.Wake()
		default:
		}
		if !reply(welcomeEvent{Type: "welcome", V: ProtocolVersion, Nick: c.Nick(), Session: token, Limits: limits{
			MaxTextBytes: parley.MaxTextBytes, MaxFrameBytes: maxFrameBytes,
			MaxNickLength: parley.MaxNickLen, MaxRoomLength: parley.MaxRoomNameLen,
		}}) {
			s.forget(token, created)
			c.Disconnect()
			return nil
		}
		s.token = token
		s.greeted = true
		s.keepAlive()
		return c
	}
}

// forget ends a session that hello created but whose token the client did
// not get: nobody could use it, and its nickname would stay taken.
func (s *socket) forget(token string, created bool) {
	if !created {
		return
	}
	if err := s.store.EndSession(context.Background(), token); err != nil {
		s.logger.Error("end unused session", "err", err)
	}
}

// keepAlive replaces the hello deadline: a client is gone when it has
// answered no ping for pongWait.
func (s *socket) keepAlive() {
	s.conn.SetReadDeadline(time.Now().Add(pongWait))
	s.conn.SetPongHandler(func(string) error {
		return s.conn.SetReadDeadline(time.Now().Add(pongWait))
	})
}

// read handles the client's frames after hello, until it has handled all
// that have arrived (more) or the connection has ended (not more).
//
// After a join, read hands on to a new goroutine and reports handedOn. A
// join replays history, which takes SQLite's deep stack; goroutine stacks
// grow but do not shrink until a garbage collection finds them mostly
// unused, and an idle server collects rarely. A fresh goroutine starts with
// a small stack, and an idle connection spends its life blocked in that one.
func (s *socket) read(ctx context.Context, c *hub.Client) (more, handedOn bool) {
	for {
		f, ferr, ok := s.next()
		if !ok {
			return false, false
		}
		s.lastFrame = time.Now()
		var reply any
		err := ferr
		if err == nil {
			reply, err = s.handle(ctx, c, f)
		}
		if errors.Is(err, hub.ErrClosed) {
			return false, false // serve writes the hub's close code
		}
		if err != nil {
			room, clientID := "", ""
			if f != nil {
				room, clientID = f.Room, f.ClientID
			}
			reply = s.errorEvent(err, room, clientID)
		}
		if reply != nil {
			if c.Reply(ctx, marshal(reply)) != nil {
				return false, false
			}
		}
		if f != nil && f.Type == "join" {
			go s.serve()
			return true, true
		}
		if s.br == nil || s.br.Buffered() == 0 {
			return true, false
		}
	}
}

// handle carries out one frame and returns the event to reply with, if any.
func (s *socket) handle(ctx context.Context, c *hub.Client, f *frame) (any, error) {
	switch f.Type {
	case "hello":
		return nil, parley.CodeErrorf(parley.Conflict, "already_greeted", "You have said hello already.")
	case "join":
		return nil, c.Join(ctx, f.Room, f.Since)
	case "leave":
		if err := c.Leave(ctx, f.Room); err != nil {
			return nil, err
		}
		return roomEvent{Type: "left", Room: f.Room}, nil
	case "send":
		// The hub queues the ack ahead of the message's fan-out. It is
		// observed before it is written, so a client that holds its ack
		// finds the send counted in the metrics.
		_, err := c.Send(ctx, f.Room, f.ClientID, f.Text, func(e *parley.Entry) []byte {
			s.obs.Acked(time.Since(s.lastFrame))
			return marshal(ackEvent{Type: "ack", Room: e.Room, ClientID: e.ClientID, Seq: e.Seq, At: e.At.UTC().Format(time.RFC3339Nano)})
		})
		return nil, err
	case "typing":
		return nil, c.Typing(ctx, f.Room)
	case "signout":
		// The session ends in the store first: once any connection of it
		// is closed, nobody can say hello with its token again.
		if err := s.store.EndSession(ctx, s.token); err != nil {
			return nil, err
		}
		s.hub.SignOut(c.Nick())
		return nil, hub.ErrClosed // serve writes the hub's close code, 1000
	default: // "ping"; decodeFrame admits no other type
		return roomEvent{Type: "pong"}, nil
	}
}

// errorEvent turns err into an error event, logging internal errors.
func (s *socket) errorEvent(err error, room, clientID string) errorEvent {
	if parley.KindOf(err) == parley.Internal {
		s.logger.Error("frame failed", "room", room, "clientId", clientID, "err", err)
	}
	s.obs.Rejected(parley.CodeOf(err))
	return errorEvent{Type: "error", Code: parley.CodeOf(err), Message: parley.MessageOf(err), Room: room, ClientID: clientID}
}

// Write implements hub.Conn: the reader writes its replies and replays
// itself, so they precede whatever the hub queues afterwards.
func (s *socket) Write(_ context.Context, frame []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.writeMessage([][]byte{frame}, 1+bytes.Count(frame, newline))
}

// Wake implements hub.Conn: it starts a flush goroutine unless one runs.
// An idle connection so holds one goroutine, its reader, and the frames
// fanned out while a flush writes go out together in its next message.
func (s *socket) Wake() {
	if s.flushing.CompareAndSwap(false, true) {
		go s.flush()
	}
}

// flush writes what the hub has queued for the client until the queue is
// empty, or sends the close frame once the hub has closed the client.
func (s *socket) flush() {
	for {
		// Let the fan-out that woke us run on before taking the queue:
		// more events per message means fewer system calls on both ends,
		// at the cost of one trip through the scheduler.
		runtime.Gosched()
		if c := s.client.Load(); c != nil {
			gather(c)
			if s.flushOnce(c) {
				continue
			}
		}
		s.flushing.Store(false)
		// A frame queued, or a close asked for, after flushOnce looked
		// woke nobody, as this goroutine still ran: look once more.
		c := s.client.Load()
		if c == nil || !s.mustFlush(c) || !s.flushing.CompareAndSwap(false, true) {
			return
		}
	}
}

// maxYields bounds the trips through the scheduler a flush makes before it
// takes the queue (gather).
const maxYields = 4

// gather yields to the scheduler while c's queue grows, up to maxYields
// trips counting flush's first, once more than one event waits: fan-outs
// then overlap, as when messages come faster than a large room's fan-out,
// and each trip lets more of their events into this client's next
// message. With one event waiting, as when fan-outs do not overlap, it
// returns at once.
func gather(c *hub.Client) {
	for n, i := c.Queued(), 1; n > 1 && i < maxYields; i++ {
		runtime.Gosched()
		m := c.Queued()
		if m <= n {
			return
		}
		n = m
	}
}

// mustFlush reports whether frames or a close wait to be written.
func (s *socket) mustFlush(c *hub.Client) bool {
	if s.ended.Load() || s.closing.Load() {
		return false
	}
	select {
	case <-c.Done():
		return true
	default:
		return c.Queued() > 0
	}
}

// flushOnce writes the frames queued now, or the close frame the hub asked
// for, and reports whether it wrote anything.
func (s *socket) flushOnce(c *hub.Client) bool {
	if s.ended.Load() || s.closing.Load() {
		return false
	}
	if s.sendClose(c) {
		// Give the client a moment to answer the close, then end the read.
		s.conn.SetReadDeadline(time.Now().Add(closeWait))
		return false
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.frames = c.Take(s.frames)
	if len(s.frames) == 0 {
		return false
	}
	err := s.writeFrames(s.frames)
	clear(s.frames) // written: let them be collected
	if err != nil {
		s.ended.Store(true) // no flush tries again
		s.conn.Close()      // ends the reader, which ends the connection
		return false
	}
	return true
}

// sendClose writes the close frame once the hub has closed the client, and
// reports whether this call wrote it.
func (s *socket) sendClose(c *hub.Client) bool {
	select {
	case <-c.Done():
	default:
		return false
	}
	return s.closeWith(c.CloseCode(), "")
}

// ping writes a ping, and comes back after pingPeriod while the connection
// lasts. The pong handler (keepAlive) extends the read deadline.
func (s *socket) ping() {
	if s.ended.Load() {
		return
	}
	if s.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)) != nil {
		s.conn.Close()
		return
	}
	s.pinger.Reset(pingPeriod)
}

// writeFrames writes frames, one event each, in as few messages as the batch
// limit allows.
func (s *socket) writeFrames(frames [][]byte) error {
	for len(frames) > 0 {
		n, size := 1, len(frames[0])
		for n < len(frames) && size+len(frames[n]) < maxBatchBytes {
			size += len(frames[n]) + 1
			n++
		}
		if err := s.writeMessage(frames[:n], n); err != nil {
			return err
		}
		frames = frames[n:]
	}
	return nil
}

// writeMessage writes frames, separated by newlines, as one message holding
// events events. It frames the message itself and writes it in one call:
// through the library's writer, a goroutine writing to an idle connection
// would outgrow its first stack.
func (s *socket) writeMessage(frames [][]byte, events int) error {
	if s.closing.Load() {
		return websocket.ErrCloseSent
	}
	size := len(frames) - 1 // newlines
	for _, f := range frames {
		size += len(f)
	}
	bp := messageBuffers.Get().(*[]byte)
	b := appendTextHeader((*bp)[:0], size)
	for i, f := range frames {
		if i > 0 {
			b = append(b, '\n')
		}
		b = append(b, f...)
	}
	s.armWrite()
	_, err := s.nc.Write(b)
	if cap(b) <= maxPooledBytes {
		*bp = b[:0]
		messageBuffers.Put(bp)
	}
	if err != nil {
		return err
	}
	s.obs.MessageOut(events)
	return nil
}

// appendTextHeader appends the header of a final, unmasked text frame with
// a payload of n bytes (RFC 6455, section 5.2).
func appendTextHeader(b []byte, n int) []byte {
	switch {
	case n < 126:
		return append(b, 0x81, byte(n))
	case n <= 0xFFFF:
		return append(b, 0x81, 126, byte(n>>8), byte(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, 0x81, 127), uint64(n))
	}
}

// deadlineSlack is how much sooner than writeWait after a write starts its
// deadline may fall.
const deadlineSlack = time.Second

// armWrite gives a write starting now a deadline writeWait away, keeping
// the deadline set when it is at most deadlineSlack sooner: moving the
// poller's timer for every message took a sixth of the server's CPU in a
// fan-out. s.wmu is held.
func (s *socket) armWrite() {
	d := time.Now().Add(writeWait).UnixNano()
	if s.deadline != 0 && d >= s.deadline && d-s.deadline < int64(deadlineSlack) {
		return
	}
	s.deadline = d
	s.nc.SetWriteDeadline(time.Unix(0, d))
}

var newline = []byte{'\n'}
