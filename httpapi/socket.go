package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/hub"
	"github.com/parley-chat/parley/protocol"
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
	helloTimeout   = 10 * time.Second // the time to say hello; 4002 beyond
)

// handleSocket upgrades to a WebSocket and speaks docs/PROTOCOL.md. The
// handler itself waits for hello; then the connection moves to a reader
// goroutine of its own, and the handler returns (transport.go tells the
// connection's whole life).
func handleSocket(logger *slog.Logger, a *auth, h *hub.Hub, opts *Options) http.Handler {
	upgrader := websocket.Upgrader{
		// Zero: the library reads through the buffer hijacker supplies.
		ReadBufferSize:  0,
		WriteBufferSize: 4096,
		WriteBufferPool: &writeBuffers,
		CheckOrigin:     checkOrigin(opts.AllowedOrigins, opts.PublicURL),
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Refused before the upgrade, which would cost more than the answer.
		release, err := a.limits.connect(r)
		if err != nil {
			writeLimited(w, r, logger, err)
			return
		}
		hj := &hijacker{ResponseWriter: w}
		conn, err := upgrader.Upgrade(hj, r, nil)
		if err != nil {
			release()
			return // the upgrader has answered with an HTTP error
		}
		conn.SetReadLimit(maxFrameBytes)
		s := &socket{
			conn: conn, nc: hj.conn, br: hj.br,
			logger: logger, store: a.store, auth: a, hub: h, opts: opts, obs: opts.Observer, addr: ClientAddr(r),
			limiter: rate.NewLimiter(frameRate, frameBurst), release: release,
		}
		if s.hello(r) == nil {
			conn.Close()
			release()
			return
		}
		// Armed only once s.pinger is set, which ping uses.
		s.pinger = opts.Clock.AfterFunc(1<<62, s.ping)
		s.pinger.Reset(pingPeriod)
		go s.serve() // the hub tracks it until Disconnect (see Hub.Wait)
	})
}

// checkOrigin allows requests without an Origin (programs), from the
// server's own origin, and from the allowed ones. The server's own origin
// is public's scheme and host when public is set, else any page of the
// host the request names.
func checkOrigin(allowed []string, public *url.URL) func(r *http.Request) bool {
	return func(r *http.Request) bool {
		origin := r.Header.Get("Origin")
		if origin == "" {
			return true
		}
		u, err := url.Parse(origin)
		if err != nil {
			return false
		}
		switch {
		case public != nil:
			if strings.EqualFold(u.Scheme, public.Scheme) && canonicalHost(public.Scheme, u.Host) == canonicalHost(public.Scheme, public.Host) {
				return true
			}
		case strings.EqualFold(u.Host, r.Host):
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

// next reads the next frame, enforcing the rate limit. It returns nil when
// the connection is over, having sent a close frame where the protocol asks.
// A frame that is not valid comes back as a non-nil error to reply with.
func (s *socket) next() (*protocol.Frame, error, bool) {
	typ, data, err := s.conn.ReadMessage()
	if err != nil {
		var ne interface{ Timeout() bool }
		switch {
		case errors.Is(err, websocket.ErrReadLimit):
			s.drain() // the library has sent close 1009
		case errors.As(err, &ne) && ne.Timeout() && !s.greeted:
			s.closeAndDrain(protocol.CloseNoHello, "no hello")
		}
		return nil, nil, false
	}
	s.obs.FrameIn()
	if typ != websocket.TextMessage {
		s.closeAndDrain(protocol.CloseUnsupportedData, "binary messages are not supported")
		return nil, nil, false
	}
	if !s.limiter.Allow() {
		s.strikes++
		if s.strikes >= maxStrikes {
			s.closeAndDrain(protocol.CloseRateLimited, "rate limited")
			return nil, nil, false
		}
		// Decode the dropped frame all the same, so that the error names
		// the send it refuses (nil when it is not a frame).
		f, _ := protocol.DecodeFrame(data)
		return f, parley.Errorf(parley.TooMany, "Too many frames; this one was dropped. Slow down."), true
	}
	s.strikes = 0
	f, err := protocol.DecodeFrame(data)
	return f, err, true
}

// hello runs the connection until the client has said hello successfully,
// writing replies directly: the client is in no room yet, so nothing else
// writes. It returns nil when the connection ended first: the client left,
// took longer than helloTimeout (close 4002), or the server began to shut
// down (close 1001).
func (s *socket) hello(r *http.Request) *hub.Client {
	stop := s.watchHello()
	defer stop()
	reply := func(event []byte) bool {
		return s.Write(context.Background(), event) == nil
	}
	ctx := context.Background()
	for {
		f, ferr, ok := s.next()
		if !ok {
			return nil
		}
		var c *hub.Client
		var session *parley.Session
		var token, shown string
		var created bool
		err := ferr
		switch {
		case err != nil:
		case f.Type != protocol.FrameHello:
			err = parley.CodeErrorf(parley.Invalid, protocol.CodeHelloRequired, "Say hello first.")
		case f.V != protocol.Version:
			err = parley.CodeErrorf(parley.Invalid, protocol.CodeUnsupportedVersion, "This server speaks protocol version %d.", protocol.Version)
		default:
			session, token, shown, created, err = s.auth.identify(ctx, r, f)
			if err == nil {
				c, err = s.hub.ConnectAs(hub.Identity{Nick: session.Nick, Session: session.ID, Admin: session.Admin}, s)
			}
			if parley.KindOf(err) == parley.Unavailable {
				s.forget(token, created)
				s.closeAndDrain(protocol.CloseGoingAway, "shutting down") // reconnect and resume
				return nil
			}
		}
		if err != nil {
			if !reply(s.errorEvent(err, "", "")) {
				return nil
			}
			continue
		}
		s.helloMu.Lock()
		s.greeted = true // endHello does nothing from now on
		s.helloMu.Unlock()
		s.client.Store(c)
		select {
		case <-c.Done(): // closed already: a Wake may have found no client
			s.Wake()
		default:
		}
		if !reply(protocol.Welcome(c.Nick(), string(session.Kind), shown, protocol.Limits{
			MaxTextBytes: parley.MaxTextBytes, MaxFrameBytes: maxFrameBytes,
			MaxNickLength: parley.MaxNickLen, MaxRoomLength: parley.MaxRoomNameLen,
		})) {
			s.forget(token, created)
			c.Disconnect()
			return nil
		}
		s.token, s.session = token, session.ID
		if s.auth.limits.Rooms.On() {
			nick := c.Nick()
			c.LimitRooms(func(ctx context.Context, _ string) error { return s.auth.limits.room(ctx, s.addr, nick) })
		}
		s.keepAlive()
		return c
	}
}

// watchHello closes the connection if hello has not succeeded within
// helloTimeout (4002), or when the server begins to shut down first (1001).
// stop ends the watch.
func (s *socket) watchHello() (stop func()) {
	timer := s.opts.Clock.AfterFunc(helloTimeout, func() { s.endHello(protocol.CloseNoHello, "no hello") })
	stopClose := s.hub.AfterClose(func() { s.endHello(protocol.CloseGoingAway, "shutting down") })
	return func() {
		timer.Stop()
		stopClose()
	}
}

// endHello closes a connection that has not said hello with code, unless
// it has said hello by now. The reader, blocked in its read, finds the
// read ended once the client answers the close, or closeWait later.
func (s *socket) endHello(code int, reason string) {
	s.helloMu.Lock()
	defer s.helloMu.Unlock()
	if s.greeted {
		return
	}
	s.closeWith(code, reason)
	s.nc.SetReadDeadline(time.Now().Add(closeWait))
}

// forget ends a session that hello created but whose token the client did
// not get: nobody could use it, and its nickname would stay taken.
func (s *socket) forget(token string, created bool) {
	if !created {
		return
	}
	if err := s.store.EndSession(context.Background(), token); err != nil {
		s.logger.Error("end unused session", "client", s.addr, "err", err)
	}
}

// read handles the client's frames after hello, until it has handled all
// that have arrived (more) or the connection has ended (not more). After a
// join, it hands the reading on to a new goroutine and reports handedOn
// (see transport.go for why).
func (s *socket) read(ctx context.Context, c *hub.Client) (more, handedOn bool) {
	for {
		f, ferr, ok := s.next()
		if !ok {
			return false, false
		}
		s.lastFrame = s.opts.Clock.Now()
		var reply []byte
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
			if c.Reply(ctx, reply) != nil {
				return false, false
			}
		}
		if f != nil && f.Type == protocol.FrameJoin {
			go s.serve()
			return true, true
		}
		if s.br == nil || s.br.Buffered() == 0 {
			return true, false
		}
	}
}

// handle carries out one frame and returns the event to reply with, if any.
func (s *socket) handle(ctx context.Context, c *hub.Client, f *protocol.Frame) ([]byte, error) {
	switch f.Type {
	case protocol.FrameHello:
		return nil, parley.CodeErrorf(parley.Conflict, protocol.CodeAlreadyGreeted, "You have said hello already.")
	case protocol.FrameJoin:
		return nil, c.Join(ctx, f.Room, f.Since)
	case protocol.FrameLeave:
		if err := c.Leave(ctx, f.Room); err != nil {
			return nil, err
		}
		return protocol.Left(f.Room), nil
	case protocol.FrameSend:
		if err := s.auth.limits.message(ctx, c.Nick()); err != nil {
			return nil, err
		}
		// The hub writes or queues the ack itself.
		_, err := c.Send(ctx, f.Room, f.ClientID, f.Text)
		return nil, err
	case protocol.FrameEdit:
		_, err := c.Edit(ctx, f.Room, f.ClientID, f.SeqOr0(), f.Text)
		return nil, err
	case protocol.FrameDelete:
		_, err := c.Delete(ctx, f.Room, f.ClientID, f.SeqOr0())
		return nil, err
	case protocol.FrameTyping:
		return nil, c.Typing(ctx, f.Room)
	case protocol.FrameRead:
		if f.Seq == nil {
			return nil, parley.CodeErrorf(parley.Invalid, parley.CodeInvalidSeq, "A read frame needs the seq of the last entry read.")
		}
		// Answered with nothing: the person's other connections get a
		// read event.
		return nil, c.MarkRead(ctx, f.Room, *f.Seq)
	case protocol.FrameSignout:
		// The session ends in the store first: once any connection of it
		// is closed, nobody can say hello with its token again.
		if err := s.store.EndSession(ctx, s.token); err != nil {
			return nil, err
		}
		if err := s.hub.EndSessions(ctx, s.session); err != nil {
			s.logger.Warn("tell other replicas of a sign-out", "err", err)
		}
		return nil, hub.ErrClosed // serve writes the hub's close code, 1000
	default: // ping; DecodeFrame admits no other type
		return protocol.Pong(), nil
	}
}

// errorEvent turns err into an error event, logging internal errors.
func (s *socket) errorEvent(err error, room, clientID string) []byte {
	if parley.KindOf(err) == parley.Internal {
		s.logger.Error("frame failed", "room", room, "clientId", clientID, "client", s.addr, "err", err)
	}
	s.obs.Rejected(parley.CodeOf(err))
	return protocol.Error(err, room, clientID)
}
