package loadgen

import (
	"bufio"
	"context"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// The generator speaks WebSocket (RFC 6455) through wsconn, a client made
// for it rather than a general library, so that reading costs as few
// system calls as it can: once joined, a connection is read by a poller
// (watch) that reads whatever a socket holds when it is ready and hands on
// every whole message in it, one read a wake-up, instead of a goroutine per
// connection that reads a message and then reads again to find the socket
// empty. Frames it sends are masked, as a client's must be; frames it
// receives must not be.

// WebSocket opcodes.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// maxMessage is the largest message the generator accepts. The server's
// largest, a page of replayed history, is under a megabyte.
const maxMessage = 16 << 20

// handshakeTimeout bounds the opening handshake.
const handshakeTimeout = 30 * time.Second

// A closeError is the end of a connection by a close frame, or 1006 when it
// ended without one.
type closeError struct {
	Code int
	Text string
}

func (e *closeError) Error() string {
	return fmt.Sprintf("websocket: close %d %s", e.Code, e.Text)
}

// errAbnormal ends a connection whose peer closed it without a close frame.
var errAbnormal = &closeError{Code: 1006, Text: "(abnormal closure): unexpected EOF"}

// A wsconn is a client WebSocket connection.
type wsconn struct {
	nc net.Conn

	// wbuf holds the frame being written. Writes are serialized by the
	// caller (the member's wmu, or its connect worker before it joins).
	wbuf []byte

	mu     sync.Mutex // held while a read is handled, and to close
	closed bool       // guarded by mu
	in     []byte     // guarded by mu: bytes read and not yet handled; nil when empty
	inbuf  *[]byte    // guarded by mu: the pooled buffer in came from
	frag   []byte     // guarded by mu: a fragmented message so far
	infrag bool       // guarded by mu: a fragmented message has begun
	p      *poller    // guarded by mu: what watches c, if anything

	// Once a poller watches c, it owns the socket: fd, a duplicate of
	// nc's descriptor, which is closed. Writes hold fdmu for reading;
	// closing fd takes it for writing.
	raw  bool // set before the first write from another goroutine
	fd   int
	fdmu sync.RWMutex

	// Set by watch: deliver gets every message, valid only during the
	// call; ping gets the payload of each ping, to answer. Both are called
	// with mu held.
	deliver func([]byte)
	ping    func([]byte)
	done    chan error // receives the reason the connection ended, once
}

// dialWS opens a WebSocket connection to u (ws:// or wss://) with d.
func dialWS(ctx context.Context, d *net.Dialer, u *url.URL) (*wsconn, error) {
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), map[string]string{"ws": "80", "wss": "443"}[u.Scheme])
	}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if u.Scheme == "wss" {
		nc = tls.Client(nc, &tls.Config{ServerName: u.Hostname()})
	}
	c := &wsconn{nc: nc, done: make(chan error, 1)}
	if err := c.handshake(u); err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

// handshake sends the opening handshake and checks the server's answer.
// Bytes that arrived after the answer wait in c.in.
func (c *wsconn) handshake(u *url.URL) error {
	c.nc.SetDeadline(time.Now().Add(handshakeTimeout))
	defer c.nc.SetDeadline(time.Time{})
	var nonce [16]byte
	binary.LittleEndian.PutUint64(nonce[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(nonce[8:], rand.Uint64())
	key := base64.StdEncoding.EncodeToString(nonce[:])
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\n" +
		"Host: " + u.Host + "\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\n" +
		"Sec-WebSocket-Version: 13\r\n\r\n"
	if _, err := c.nc.Write([]byte(req)); err != nil {
		return err
	}
	br := bufio.NewReaderSize(c.nc, 512)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return fmt.Errorf("websocket handshake: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return fmt.Errorf("websocket handshake: bad status %s", resp.Status)
	}
	if !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") ||
		!strings.Contains(strings.ToLower(resp.Header.Get("Connection")), "upgrade") {
		return errors.New("websocket handshake: no upgrade to websocket")
	}
	if resp.Header.Get("Sec-WebSocket-Accept") != acceptKey(key) {
		return errors.New("websocket handshake: bad Sec-WebSocket-Accept")
	}
	if n := br.Buffered(); n > 0 {
		b, _ := br.Peek(n)
		c.grow()
		c.in = append(c.in, b...)
	}
	return nil
}

// acceptKey is the Sec-WebSocket-Accept that answers key.
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// writeMessage sends payload as one text message, within timeout.
func (c *wsconn) writeMessage(payload []byte, timeout time.Duration) error {
	return c.writeFrame(opText, payload, timeout)
}

// writeFrame sends one masked frame.
func (c *wsconn) writeFrame(op byte, payload []byte, timeout time.Duration) error {
	b := append(c.wbuf[:0], 0x80|op)
	switch n := len(payload); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xFFFF:
		b = append(b, 0x80|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	var mask [4]byte
	binary.LittleEndian.PutUint32(mask[:], rand.Uint32())
	b = append(b, mask[:]...)
	start := len(b)
	b = append(b, payload...)
	for i := range b[start:] {
		b[start+i] ^= mask[i&3]
	}
	c.wbuf = b
	if c.raw {
		c.fdmu.RLock()
		defer c.fdmu.RUnlock()
		if c.fd < 0 {
			return net.ErrClosed
		}
		return writeFD(c.fd, b, time.Now().Add(timeout))
	}
	c.nc.SetWriteDeadline(time.Now().Add(timeout))
	_, err := c.nc.Write(b)
	return err
}

// readMessage reads the next message and appends it to b, answering pings
// meanwhile, waiting at most timeout. It is for connecting (hello, join),
// before watch: the caller is the connection's only reader and writer.
func (c *wsconn) readMessage(b []byte, timeout time.Duration) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return b, net.ErrClosed
	}
	var msg []byte
	found := false
	c.deliver = func(m []byte) { msg, found = append(b, m...), true }
	c.ping = func(p []byte) { c.writeFrame(opPong, p, timeout) }
	defer func() { c.deliver, c.ping = nil, nil }()
	c.nc.SetReadDeadline(time.Now().Add(timeout))
	defer c.nc.SetReadDeadline(time.Time{})
	for {
		if err := c.handle(true); err != nil {
			return b, err
		}
		if found {
			return msg, nil
		}
		c.grow()
		n, err := c.nc.Read(c.in[len(c.in):cap(c.in)])
		c.in = c.in[:len(c.in)+n]
		if err != nil {
			c.release()
			return b, readError(err)
		}
	}
}

// readError is the end of a connection whose read failed with err.
func readError(err error) error {
	if errors.Is(err, net.ErrClosed) {
		return err
	}
	if errors.Is(err, io.EOF) {
		return errAbnormal
	}
	return err
}

// grow makes room in c.in for a read. c.mu is held.
func (c *wsconn) grow() {
	if c.in == nil {
		c.inbuf = getBuf()
		c.in = *c.inbuf
	}
	if cap(c.in)-len(c.in) < 1024 {
		c.in = append(c.in, make([]byte, cap(c.in))...)[:len(c.in)]
	}
}

// release gives c.in back to the pool when it is empty. c.mu is held.
func (c *wsconn) release() {
	if c.in != nil && len(c.in) == 0 {
		c.drop()
	}
}

// drop gives c.in back to the pool. c.mu is held.
func (c *wsconn) drop() {
	*c.inbuf = c.in
	putBuf(c.inbuf)
	c.in, c.inbuf = nil, nil
}

// handle hands on the whole messages in c.in, or with one set, only the
// first. What is left of a message stays in c.in. c.mu is held.
func (c *wsconn) handle(one bool) error {
	b := c.in
	defer func() {
		c.in = c.in[:copy(c.in, b)]
		c.release()
	}()
	for len(b) > 0 {
		fin, op, payload, n, err := parseFrame(b)
		if err != nil || n == 0 {
			return err
		}
		b = b[n:]
		switch op {
		case opText, opBinary, opContinuation:
			if (op == opContinuation) != c.infrag {
				return errors.New("websocket: bad continuation")
			}
			if fin && !c.infrag {
				c.deliver(payload)
			} else {
				c.frag = append(c.frag, payload...)
				c.infrag = !fin
				if len(c.frag) > maxMessage {
					return errors.New("websocket: message too large")
				}
				if fin {
					c.deliver(c.frag)
					c.frag = nil
				}
			}
			if fin && one {
				return nil
			}
		case opPing:
			c.ping(payload)
		case opPong:
		case opClose:
			ce := &closeError{Code: 1005}
			if len(payload) >= 2 {
				ce.Code = int(binary.BigEndian.Uint16(payload))
				ce.Text = string(payload[2:])
			}
			return ce
		default:
			return fmt.Errorf("websocket: unknown opcode %d", op)
		}
	}
	return nil
}

// parseFrame parses the frame at the start of b: whether it ends its
// message, its opcode and payload, and its length in b. n is 0 when b does
// not hold the whole frame yet.
func parseFrame(b []byte) (fin bool, op byte, payload []byte, n int, err error) {
	if len(b) < 2 {
		return false, 0, nil, 0, nil
	}
	fin, op = b[0]&0x80 != 0, b[0]&0x0F
	if b[0]&0x70 != 0 {
		return false, 0, nil, 0, errors.New("websocket: reserved bits set")
	}
	if b[1]&0x80 != 0 {
		return false, 0, nil, 0, errors.New("websocket: masked frame from the server")
	}
	size, h := uint64(b[1]&0x7F), 2
	switch size {
	case 126:
		if len(b) < 4 {
			return false, 0, nil, 0, nil
		}
		size, h = uint64(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return false, 0, nil, 0, nil
		}
		size, h = binary.BigEndian.Uint64(b[2:]), 10
	}
	if op >= opClose && (size > 125 || !fin) {
		return false, 0, nil, 0, errors.New("websocket: bad control frame")
	}
	if size > maxMessage {
		return false, 0, nil, 0, errors.New("websocket: message too large")
	}
	if uint64(len(b)-h) < size {
		return false, 0, nil, 0, nil
	}
	end := h + int(size)
	return fin, op, b[h:end], end, nil
}

// received hands on the whole messages in c.in, to which a read has just
// added, then ends the connection with the read's error, if any, or when
// it must. c.mu is held.
func (c *wsconn) received(err error) {
	if herr := c.handle(false); herr != nil {
		c.finishLocked(herr)
		return
	}
	if err != nil {
		c.finishLocked(readError(err))
	}
}

// begin hands c's messages from now on to deliver and its pings' payloads
// to ping, starting with those that arrived while connecting, and reports
// whether c is still open; if not, err says why unless c.done does. c.mu
// is held.
func (c *wsconn) begin(deliver, ping func([]byte)) (open bool, err error) {
	if c.closed {
		return false, net.ErrClosed
	}
	c.deliver, c.ping = deliver, ping
	if err := c.handle(false); err != nil {
		c.finishLocked(err)
		return false, nil
	}
	return true, nil
}

// readLoop reads c on a goroutine of its own until it ends: for the
// connections a poller cannot read, and where there is none.
func (c *wsconn) readLoop() {
	buf := make([]byte, 4096)
	for {
		n, err := c.nc.Read(buf)
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return
		}
		c.grow()
		c.in = append(c.in, buf[:n]...)
		c.received(err)
		c.mu.Unlock()
	}
}

// Close ends the connection without a close handshake, as a dropped
// network would.
func (c *wsconn) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.finishLocked(net.ErrClosed)
}

// finishLocked closes the connection and reports err on c.done, the first
// time. c.mu is held.
func (c *wsconn) finishLocked(err error) {
	if c.closed {
		return
	}
	c.closed = true
	if c.raw {
		unwatch(c)
	} else {
		c.nc.Close()
	}
	if c.in != nil {
		c.drop()
	}
	c.done <- err
}
