package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/hub"
)

// The WebSocket transport: how one connection lives, and how its frames
// reach the network.
//
// # A connection's life
//
//  1. The HTTP handler (handleSocket, socket.go) upgrades the connection and
//     waits for hello in the handler's own goroutine. watchHello's timer (on
//     Options.Clock) and the hub's AfterClose end that wait with 4002 or
//     1001.
//  2. After hello the handler starts serve in a new goroutine, the reader,
//     and returns: net/http keeps a handler's buffers, and its goroutine's
//     grown stack, for as long as it runs, about 10 KB that an idle
//     WebSocket does not need.
//  3. The reader reads frames and calls the hub (Join, Send, ...). It is the
//     only goroutine that reads, and it writes its replies itself (Write).
//     After a join, which replays history on SQLite's deep stack, it hands
//     on to a fresh goroutine: stacks do not shrink until a garbage
//     collection, which an idle server seldom runs.
//  4. An idle reader waits in await (await_unix.go), in the Go poller a few
//     calls deep, not in the library's read path, which blocked needs more
//     than half of a new goroutine's 2 KB stack, so the runtime would double
//     it. A busy reader (a frame within quietAfter) reads straight on.
//  5. Fan-out frames queue in the hub's Client; the hub calls Wake, which
//     starts a flush goroutine unless one runs. It writes what is queued,
//     several frames to one message, and ends when the queue is empty. An
//     idle connection so has one goroutine, its reader, blocked in await:
//     about 11 KB a connection in all (docs/PERFORMANCE.md).
//  6. The connection ends when the client goes, a write fails (the flush
//     goroutine closes the network connection, which ends the read), the
//     ping timer finds it dead, or the hub closes the client (too slow,
//     shutdown, sign-out): the writer then sends the close code, and the
//     reader drains and calls Disconnect.
//
// Who owns what: the reader owns the fields marked "reader only"; wmu
// serializes every write of a message or close frame (reader, flush
// goroutine, hello's watchers); pings are control frames, which the library
// lets go alongside. The ping timer runs ping on its own goroutine every
// pingPeriod until the connection ends.

// writeBuffers is the WebSocket library's pool of write buffers, from which
// it takes none, as the socket frames its messages itself (writeMessage);
// without a pool, the library would keep the HTTP server's 4 KB write
// buffer for every connection.
var writeBuffers sync.Pool

// messageBuffers holds the buffers in which writeMessage assembles
// messages: a connection holds one only while it writes. Buffers that grew
// beyond maxPooledBytes, for a long replay page, are not kept.
var messageBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// serve reads a greeted connection until it ends, in this goroutine or in
// the one it hands on to (steps 3, 4 and 6 above). A reader new to its
// goroutine, or quiet for quietAfter, waits in await first: a busy one would
// pay a system call a frame for it.
func (s *socket) serve() {
	c := s.client.Load()
	for first := true; ; first = false {
		if first || s.opts.Clock.Now().Sub(s.lastFrame) > quietAfter {
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
	s.release()
}

// socket is one WebSocket connection. It is the hub.Conn of its client.
type socket struct {
	conn      *websocket.Conn
	nc        net.Conn      // conn's network connection
	br        *bufio.Reader // conn's read buffer
	logger    *slog.Logger
	store     parley.Store
	auth      *auth
	hub       *hub.Hub
	opts      *Options
	obs       Observer
	addr      netip.Addr    // the client's (ClientAddr), for logs; static
	token     string        // the session's, once hello succeeded; reader only
	session   string        // the session's ID, once hello succeeded; reader only
	limiter   *rate.Limiter // used by the reader only
	release   func()        // gives back the address's connection slot; static
	strikes   int           // rate-limited frames in a row; reader only
	helloMu   sync.Mutex    // guards greeted against hello's watchers
	greeted   bool          // hello succeeded; written by the reader under helloMu
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
	pinger   Timer       // pings the client every pingPeriod
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

// keepAlive replaces the hello deadline: a client is gone when it has
// answered no ping for pongWait.
func (s *socket) keepAlive() {
	s.conn.SetReadDeadline(time.Now().Add(pongWait))
	s.conn.SetPongHandler(func(string) error {
		return s.conn.SetReadDeadline(time.Now().Add(pongWait))
	})
}

// Write implements hub.Conn: the reader writes its replies and replays
// itself, so they precede whatever the hub queues afterwards. What the hub
// queued before, such as the ack of a send just handled, goes out first, so
// the client gets the answers to its frames in the order it sent them.
func (s *socket) Write(_ context.Context, frame []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if c := s.client.Load(); c != nil {
		s.frames = c.Take(s.frames)
		err := s.writeFrames(s.frames)
		clear(s.frames)
		if err != nil {
			return err
		}
	}
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
