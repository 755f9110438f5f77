package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Timeouts of a member's connection: for each step of connecting (the
// handshake, hello, join), and for each write after.
const (
	establishTimeout = 30 * time.Second
	writeTimeout     = 10 * time.Second
)

// member is one simulated person with one connection at a time in one room.
// A connect worker dials, says hello and joins (establish); then the
// member's goroutine (run) reads until the connection ends, and after an
// unexpected end reconnects with its session and resumes from the last
// entry it has, as docs/PROTOCOL.md tells clients to, resending what was
// not acknowledged.
type member struct {
	a    *agent
	idx  int    // global index
	nick string // static
	room *room  // static

	ready chan error // receives the outcome of the first join, once

	// Lock order: wmu, then the connection's mu (a poller holds it while it
	// hands on a message), then mu.
	wmu     sync.Mutex
	conn    *wsconn     // guarded by wmu; nil while not joined
	nextID  uint64      // guarded by wmu: the last client id counter used
	dropped atomic.Bool // the connection was dropped on purpose (churn)

	mu        sync.Mutex
	session   string           // guarded by mu
	joined    bool             // guarded by mu: t is set
	t         tracker          // guarded by mu
	pending   map[uint64]int64 // guarded by mu: unacknowledged sends, counter → send time (Unix ns)
	retry     []uint64         // guarded by mu: pending sends the server failed (internal, unavailable), to send again
	ackMax    int64            // guarded by mu: highest seq acknowledged
	foreign   int64            // guarded by mu: entries of other rooms
	lastEntry int64            // guarded by mu: Unix ns of the last entry received
	messages  int64            // guarded by mu: WebSocket messages read after joining

	fromStart bool  // static: join with since 0 the first time (history readers)
	joinAt    int64 // guarded by mu: Unix ns when the first join was sent
	joinLast  int64 // guarded by mu: lastSeq of the first joined
	caughtUp  int64 // guarded by mu: Unix ns when it had every entry up to joinLast
	// After a lost connection: when m joined again (Unix ns), the lastSeq
	// of that joined, and when m had every entry up to it; guarded by mu.
	backAt, resumeTo, resumedAt int64
}

func (m *member) isJoined() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.joined
}

// run keeps m connected until ctx is done, starting from conn, its first
// connection, which a connect worker has established (see agent.connect)
// with the error of its resend, if any.
func (m *member) run(ctx context.Context, conn *wsconn, err error) {
	backoff := 50 * time.Millisecond
	for {
		established := conn != nil
		if established {
			if err == nil {
				err = m.awaitEnd(ctx, conn)
			}
			conn.Close()
		}
		if ctx.Err() != nil {
			return
		}
		if m.dropped.Swap(false) {
			backoff = 50 * time.Millisecond // churn: come back at once
		} else {
			var ce *closeError
			switch {
			case errors.As(err, &ce):
				m.a.count(m.a.closes, closeKey(ce.Code))
			case established:
				m.a.count(m.a.closes, "dropped")
			default:
				m.a.count(m.a.errs, "reconnect: "+errorClass(err))
			}
			if established {
				backoff = 50 * time.Millisecond
			}
			wait := time.Duration(float64(backoff) * (0.5 + rand.Float64()))
			backoff = min(2*backoff, 2*time.Second)
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
		m.a.reconnects.Add(1)
		conn, err = m.establish(ctx, false)
	}
}

// establish dials, says hello and joins, and returns the joined connection,
// or nil and the error. A joined connection may come with the error of
// resending what was not acknowledged; the caller closes it. The first
// attempt records the connect latency and reports on m.ready.
func (m *member) establish(ctx context.Context, first bool) (_ *wsconn, err error) {
	a := m.a
	start := time.Now()
	conn, err := dialWS(ctx, a.dialer(m.idx), a.url)
	if err != nil {
		return nil, err
	}
	joined := false
	defer func() {
		if !joined {
			conn.Close()
		}
	}()

	m.mu.Lock()
	session := m.session
	m.mu.Unlock()
	hello := `{"type":"hello","v":1,"nick":"` + m.nick + `"`
	if session != "" {
		hello += `,"session":"` + session + `"`
	}
	hello += "}"
	if err := conn.writeMessage([]byte(hello), establishTimeout); err != nil {
		return nil, err
	}
	bp := getBuf()
	defer putBuf(bp)
	var e event
	for e.typ == nil || string(e.typ) != "welcome" {
		if *bp, err = conn.readMessage((*bp)[:0], establishTimeout); err != nil {
			return nil, err
		}
		if !scanEvent(firstLine(*bp), &e) {
			return nil, fmt.Errorf("hello: unreadable reply %.100q", *bp)
		}
		if string(e.typ) == "error" {
			return nil, fmt.Errorf("hello: %s", errorText(*bp))
		}
	}
	m.mu.Lock()
	m.session = string(e.session)
	since := m.room.known.Load()
	if m.fromStart {
		since = 0
	}
	if m.joined {
		since = m.t.low
	} else {
		m.joinAt = time.Now().UnixNano()
	}
	m.mu.Unlock()

	join := `{"type":"join","room":"` + m.room.name + `","since":` + strconv.FormatInt(since, 10) + "}"
	if err := conn.writeMessage([]byte(join), establishTimeout); err != nil {
		return nil, err
	}
	// The joined event comes first; what follows it in the same message is
	// read like any other events.
	var rest []byte
	for rest == nil {
		if *bp, err = conn.readMessage((*bp)[:0], establishTimeout); err != nil {
			return nil, err
		}
		for line, tail := cutLine(*bp); line != nil; line, tail = cutLine(tail) {
			if !scanEvent(line, &e) {
				continue
			}
			switch string(e.typ) {
			case "error":
				return nil, fmt.Errorf("join: %s", errorText(line))
			case "joined":
				rest = tail[:len(tail):len(tail)]
			}
			if rest != nil {
				break
			}
		}
	}
	lastSeq := e.lastSeq
	for {
		k := m.room.known.Load()
		if lastSeq <= k || m.room.known.CompareAndSwap(k, lastSeq) {
			break
		}
	}
	m.mu.Lock()
	if !m.joined {
		m.joined = true
		m.t = newTracker(since)
		m.joinLast = lastSeq
		if lastSeq <= since {
			m.caughtUp = time.Now().UnixNano()
		}
	} else {
		m.backAt, m.resumeTo, m.resumedAt = time.Now().UnixNano(), lastSeq, 0
		if m.t.low >= lastSeq {
			m.resumedAt = m.backAt
		}
	}
	m.handle(rest, time.Now().UnixNano())
	m.mu.Unlock()

	// From here on a poller reads conn; the joined event's message was the
	// last read here.
	m.wmu.Lock()
	err = watch(conn, m.deliver, func(payload []byte) {
		// Answered from a goroutine of its own: the poller must not wait
		// for m.wmu, which a sender may hold while its write waits.
		go m.pong(conn, append([]byte(nil), payload...))
	})
	if err != nil {
		m.wmu.Unlock()
		return nil, err
	}
	joined = true
	m.conn = conn
	err = m.resend()
	m.wmu.Unlock()
	if first {
		a.connLat.record(time.Since(start))
		m.ready <- nil
	}
	return conn, err
}

// awaitEnd waits until conn, which a poller reads for m (see watch), ends,
// which closing it (agent.close, churn, the end of ctx) makes happen.
func (m *member) awaitEnd(ctx context.Context, conn *wsconn) error {
	stop := context.AfterFunc(ctx, conn.Close)
	defer stop()
	err := <-conn.done
	m.wmu.Lock()
	if m.conn == conn {
		m.conn = nil
	}
	m.wmu.Unlock()
	return err
}

// deliver accounts for one message from m's connection.
func (m *member) deliver(msg []byte) {
	now := time.Now().UnixNano()
	m.mu.Lock()
	m.messages++
	m.handle(msg, now)
	m.mu.Unlock()
}

// pong answers a ping on conn, if it is still m's connection.
func (m *member) pong(conn *wsconn, payload []byte) {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	if m.conn == conn {
		conn.writeFrame(opPong, payload, writeTimeout)
	}
}

// handle accounts for the events of one message that arrived at now (Unix
// ns). m.mu is held.
func (m *member) handle(msg []byte, now int64) {
	rec := m.a.rec.Load()
	shard := m.idx % shards
	var e event
	for line, rest := cutLine(msg); line != nil; line, rest = cutLine(rest) {
		if !scanEvent(line, &e) {
			m.a.count(m.a.errs, "unreadable event")
			continue
		}
		if e.hasSeq && string(e.typ) != "ack" {
			if string(e.room) != m.room.name {
				m.foreign++
				continue
			}
			m.t.add(e.seq)
			m.lastEntry = now
			if m.caughtUp == 0 && m.t.low >= m.joinLast {
				m.caughtUp = now
			}
			if m.resumedAt == 0 && m.backAt != 0 && m.t.low >= m.resumeTo {
				m.resumedAt = now
			}
			if ts, ok := leadingInt(e.text); ok && string(e.typ) == "message" {
				rec.deliver[shard].record(time.Duration(now - ts))
			}
			continue
		}
		switch string(e.typ) {
		case "ack":
			id, ts, ok := parseClientID(e.clientID)
			if !ok {
				continue
			}
			m.ackMax = max(m.ackMax, e.seq)
			for {
				k := m.a.ackMax.Load()
				if e.seq <= k || m.a.ackMax.CompareAndSwap(k, e.seq) {
					break
				}
			}
			if _, ok := m.pending[id]; ok {
				delete(m.pending, id)
				m.a.pending.Add(-1)
				m.a.acked.Add(1)
				rec.ack[shard].record(time.Duration(now - ts))
			}
		case "error":
			m.a.count(m.a.errs, string(e.code))
			if id, _, ok := parseClientID(e.clientID); ok {
				if _, ok := m.pending[id]; ok {
					if retryable(e.code) {
						// The store failed (it may even have committed):
						// send it again, with the same client id, as
						// docs/PROTOCOL.md says a client may.
						m.retry = append(m.retry, id)
						break
					}
					delete(m.pending, id)
					m.a.pending.Add(-1)
					m.a.sendErrors.Add(1)
				}
			}
		}
	}
}

// retryable reports whether an error event's code says the send may
// succeed if sent again: the server failed, not the message.
func retryable(code []byte) bool {
	return string(code) == "internal" || string(code) == "unavailable"
}

// send sends one message if m is connected, reusing buf, after sending
// again those the server failed; ok is false when it is not connected.
func (m *member) send(buf []byte) (_ []byte, ok bool) {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	if m.conn == nil {
		return buf, false
	}
	m.mu.Lock()
	retry := m.retry
	m.retry = nil
	m.mu.Unlock()
	for _, id := range retry {
		m.mu.Lock()
		ts, ok := m.pending[id]
		m.mu.Unlock()
		if !ok {
			continue
		}
		m.a.resent.Add(1)
		buf = appendSend(buf[:0], m.room.name, id, ts, m.a.plan.Size)
		if err := m.conn.writeMessage(buf, writeTimeout); err != nil {
			m.conn.Close() // the reader reconnects, and resends what is pending
			return buf, true
		}
	}
	m.nextID++
	id, now := m.nextID, time.Now()
	m.mu.Lock()
	m.pending[id] = now.UnixNano()
	m.mu.Unlock()
	m.a.pending.Add(1)
	m.a.sent.Add(1)
	buf = appendSend(buf[:0], m.room.name, id, now.UnixNano(), m.a.plan.Size)
	if err := m.conn.writeMessage(buf, writeTimeout); err != nil {
		// The reader sees the connection end too, and reconnects; the
		// message stays pending and is sent again then.
		m.conn.Close()
	}
	return buf, true
}

// resend sends again every message that was not acknowledged, with its
// original client id and text. m.wmu is held and m.conn set.
func (m *member) resend() error {
	m.mu.Lock()
	m.retry = nil // all pending go again now
	ids := make([]uint64, 0, len(m.pending))
	for id := range m.pending {
		ids = append(ids, id)
	}
	m.mu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	var buf []byte
	for _, id := range ids {
		m.mu.Lock()
		ts, ok := m.pending[id]
		m.mu.Unlock()
		if !ok {
			continue
		}
		buf = appendSend(buf[:0], m.room.name, id, ts, m.a.plan.Size)
		if err := m.conn.writeMessage(buf, writeTimeout); err != nil {
			return err
		}
		m.a.resent.Add(1)
	}
	return nil
}

// drop closes m's connection without a close handshake, as a network
// failure would; m reconnects and resumes. It reports false when m is not
// connected.
func (m *member) drop() bool {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	if m.conn == nil {
		return false
	}
	m.dropped.Store(true)
	m.conn.Close()
	m.conn = nil
	return true
}

// appendSend appends a send frame to b. The client id is
// "<counter>.<send time in Unix ns>", and the text starts with the send
// time, padded with 'x' to size bytes.
func appendSend(b []byte, room string, id uint64, ts int64, size int) []byte {
	b = append(b, `{"type":"send","room":"`...)
	b = append(b, room...)
	b = append(b, `","clientId":"`...)
	b = strconv.AppendUint(b, id, 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, `","text":"`...)
	start := len(b)
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, ' ')
	for len(b)-start < size {
		b = append(b, 'x')
	}
	return append(b, `"}`...)
}

// parseClientID splits a client id made by appendSend.
func parseClientID(b []byte) (id uint64, ts int64, ok bool) {
	for i, c := range b {
		if c == '.' {
			n, ok1 := leadingInt(b[:i])
			t, ok2 := leadingInt(b[i+1:])
			return uint64(n), t, ok1 && ok2
		}
	}
	return 0, 0, false
}

// cutLine returns the first line of b and the rest, or nil when b is empty.
func cutLine(b []byte) (line, rest []byte) {
	if len(b) == 0 {
		return nil, nil
	}
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i], b[i+1:]
	}
	return b, b[len(b):]
}

func firstLine(b []byte) []byte {
	line, _ := cutLine(b)
	return line
}

// errorText describes an error event, decoding it fully: errors are rare.
func errorText(line []byte) string {
	var ev struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(firstLine(line), &ev) != nil {
		return fmt.Sprintf("%.200q", line)
	}
	return ev.Code + ": " + ev.Message
}

// Message buffers are pooled: a connection holds one only while it reads,
// which keeps tens of thousands of idle connections small.
var bufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func getBuf() *[]byte { return bufs.Get().(*[]byte) }

func putBuf(b *[]byte) {
	*b = (*b)[:0]
	bufs.Put(b)
}
