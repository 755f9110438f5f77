package redis

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Timing of the connection to Redis.
const (
	// publishTimeout bounds a Publish: a sender waits no longer for Redis.
	publishTimeout = time.Second
	// idleTimeout is how long the pub/sub connection may be silent before
	// it is pinged, and pongTimeout how long the pong may then take before
	// the connection is taken for dead and made again.
	idleTimeout = 5 * time.Second
	pongTimeout = 5 * time.Second
	// minRetry and maxRetry bound the wait between two attempts to
	// reconnect: it doubles from the one to the other.
	minRetry = 50 * time.Millisecond
	maxRetry = 2 * time.Second
)

// channelPrefix begins the Redis channel of every room.
const channelPrefix = "parley:room:"

// originLen is the length of the origin that begins every payload: 16 hex
// digits and a space.
const originLen = 17

// Broker is a hub.Broker over Redis pub/sub (see the package doc). Its
// methods are safe for concurrent use.
type Broker struct {
	client *goredis.Client // for PUBLISH and PING; static after NewBroker
	pubsub *goredis.PubSub // the one pub/sub connection; static after NewBroker
	logger *slog.Logger    // static after NewBroker
	addr   string          // where Redis is, for logs: never a password
	origin string          // begins every payload this broker sends; static

	// idleTimeout and pongTimeout watch the pub/sub connection (see their
	// constants); static after NewBroker, but for tests, which shorten
	// them before Run.
	idleTimeout, pongTimeout time.Duration

	// changed has a value when channels changed since Run's
	// syncSubscriptions last looked; capacity 1.
	changed chan struct{}

	mu       sync.Mutex
	channels map[string]*channel // the channels with local subscribers, by name; guarded by mu
}

// channel is a Redis channel with local subscribers.
type channel struct {
	// subs is never changed once stored, so that dispatch walks it
	// without copying; guarded by Broker.mu.
	subs []*subscriber
}

type subscriber struct{ deliver func(msg []byte) }

// NewBroker returns a Broker for the Redis server at rawURL, a URL such as
// redis://[user:password@]host[:port][/db] (rediss:// for TLS, or
// unix:///path/to/redis.sock), which go-redis's ParseURL reads. It does
// no I/O: [Broker.Run] connects. Its errors never repeat the URL, which may
// hold a password.
func NewBroker(rawURL string, logger *slog.Logger) (*Broker, error) {
	client, err := newClient(rawURL)
	if err != nil {
		return nil, err
	}
	return &Broker{
		client: client,
		pubsub: client.Subscribe(context.Background()), // no channels: no I/O
		logger: logger,
		addr:   client.Options().Addr,
		origin: randomID() + " ",

		idleTimeout: idleTimeout,
		pongTimeout: pongTimeout,
		changed:     make(chan struct{}, 1),
		channels:    make(map[string]*channel),
	}, nil
}

// newClient returns a go-redis client for the Redis server at rawURL (see
// NewBroker). It does no I/O, and its errors never repeat the URL.
func newClient(rawURL string) (*goredis.Client, error) {
	opts, err := goredis.ParseURL(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL
		}
		return nil, fmt.Errorf("parse redis URL: %w", err)
	}
	// Maintenance notifications are for Redis Enterprise and Cloud; their
	// handshake would only fail on other servers.
	opts.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	// Let each call's context bound the socket's reads and writes too.
	opts.ContextTimeoutEnabled = true
	// One dial an attempt: Run waits between its attempts itself, and a
	// Publish while Redis is down fails at once rather than when its time
	// is up.
	if opts.DialerRetries == 0 {
		opts.DialerRetries = 1
	}
	return goredis.NewClient(opts), nil
}

// randomID returns 16 random hex digits, which tell one replica's broker
// or roster from another's.
func randomID() string {
	var id [8]byte
	crand.Read(id[:])
	return hex.EncodeToString(id[:])
}

// SetLibraryLogger sends what go-redis itself logs to logger, at level
// Debug. go-redis has one logger for the whole process, which writes to
// standard error unless this is called; a Broker logs what an operator
// needs to know (the connection lost, and back) itself.
func SetLibraryLogger(logger *slog.Logger) {
	goredis.SetLogger(libraryLogger{logger})
}

type libraryLogger struct{ logger *slog.Logger }

func (l libraryLogger) Printf(ctx context.Context, format string, v ...any) {
	l.logger.DebugContext(ctx, fmt.Sprintf(format, v...), "from", "go-redis")
}

// Publish delivers msg to the subscribers of room on this replica, then
// sends it through Redis to those of the other replicas. It returns an
// error when Redis has not taken it within a second, or ctx is done first;
// this replica's subscribers have it all the same.
func (b *Broker) Publish(ctx context.Context, room string, msg []byte) error {
	name := channelName(room)
	b.dispatch(name, msg)
	payload := make([]byte, 0, originLen+len(msg))
	payload = append(append(payload, b.origin...), msg...)
	ctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	if err := b.client.Publish(ctx, name, payload).Err(); err != nil {
		return fmt.Errorf("publish to redis: %w", err)
	}
	return nil
}

// Subscribe calls deliver for every publication to room until unsubscribe
// is called, and with nil each time Redis confirms the room's subscription
// (see the package doc). It does not wait for Redis: Run subscribes the
// room's channel, if it is not subscribed already.
func (b *Broker) Subscribe(room string, deliver func(msg []byte)) (unsubscribe func()) {
	name := channelName(room)
	s := &subscriber{deliver: deliver}
	b.mu.Lock()
	ch := b.channels[name]
	if ch == nil {
		ch = new(channel)
		b.channels[name] = ch
		b.changedLocked()
	}
	// Clipped, the slice is copied by append, not written in place.
	ch.subs = append(slices.Clip(ch.subs), s)
	b.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			ch.subs = slices.DeleteFunc(slices.Clone(ch.subs), func(t *subscriber) bool { return t == s })
			if len(ch.subs) == 0 && b.channels[name] == ch {
				delete(b.channels, name)
				b.changedLocked()
			}
		})
	}
}

// changedLocked tells syncSubscriptions that channels changed. b.mu is
// held.
func (b *Broker) changedLocked() {
	select {
	case b.changed <- struct{}{}:
	default:
	}
}

// dispatch calls every local subscriber of the channel called name with
// msg.
func (b *Broker) dispatch(name string, msg []byte) {
	b.mu.Lock()
	var subs []*subscriber
	if ch := b.channels[name]; ch != nil {
		subs = ch.subs
	}
	b.mu.Unlock()
	for _, s := range subs {
		s.deliver(msg)
	}
}

// Ping reports whether Redis answers, for readiness.
func (b *Broker) Ping(ctx context.Context) error {
	if err := b.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping redis: %w", err)
	}
	return nil
}

// Close closes the connections to Redis. Call it once Run has returned.
func (b *Broker) Close() error {
	b.pubsub.Close() // closed already when Run has returned
	return b.client.Close()
}

// Run keeps the pub/sub connection and its subscriptions until ctx is
// done, then returns nil; it reconnects by itself when the connection is
// lost, and logs when it does. It is called once.
func (b *Broker) Run(ctx context.Context) error {
	// A read waits for the next message whatever its context says; closing
	// the connection ends it.
	stop := context.AfterFunc(ctx, func() { b.pubsub.Close() })
	defer stop()
	var wg sync.WaitGroup
	wg.Go(func() { b.syncSubscriptions(ctx) })
	b.receive(ctx)
	wg.Wait()
	return nil
}

// syncSubscriptions subscribes the channels that have local subscribers
// and unsubscribes those that have none any more, whenever they change,
// until ctx is done. go-redis keeps the set of channels even when the
// command fails, and subscribes them all again when it reconnects, so a
// failure here needs nothing but a log.
func (b *Broker) syncSubscriptions(ctx context.Context) {
	subscribed := make(map[string]bool)
	for {
		b.mu.Lock()
		var add, drop []string
		for name := range b.channels {
			if !subscribed[name] {
				add = append(add, name)
			}
		}
		for name := range subscribed {
			if b.channels[name] == nil {
				drop = append(drop, name)
			}
		}
		b.mu.Unlock()
		if len(add) > 0 {
			if err := b.pubsub.Subscribe(ctx, add...); err != nil && ctx.Err() == nil {
				b.logger.Debug("subscribe to redis channels; again once reconnected", "channels", len(add), "err", err)
			}
			for _, name := range add {
				subscribed[name] = true
			}
		}
		if len(drop) > 0 {
			if err := b.pubsub.Unsubscribe(ctx, drop...); err != nil && ctx.Err() == nil {
				b.logger.Debug("unsubscribe from redis channels", "channels", len(drop), "err", err)
			}
			for _, name := range drop {
				delete(subscribed, name)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-b.changed:
		}
	}
}

// receive reads from the pub/sub connection until ctx is done, and hands
// each publication to the local subscribers of its channel. It watches the
// connection: when a read fails, go-redis reconnects and subscribes again
// (on the next read or ping), and receive waits a little longer after each
// failure in a row.
func (b *Broker) receive(ctx context.Context) {
	var (
		pinged   time.Time // when the pong awaited was asked for; zero when none is
		lost     bool      // the connection is lost, and not back yet
		failures int       // in a row
	)
	for {
		var msg any
		var err error
		if pinged.IsZero() {
			// A timeout of ReceiveTimeout leaves the connection as it is.
			msg, err = b.pubsub.ReceiveTimeout(ctx, b.idleTimeout)
		} else {
			// The deadline of a context, unlike ReceiveTimeout's, makes
			// go-redis drop the connection when it passes: a connection
			// that does not answer a ping is dead.
			rctx, cancel := context.WithDeadline(ctx, pinged.Add(b.pongTimeout))
			msg, err = b.pubsub.Receive(rctx)
			cancel()
		}
		if ctx.Err() != nil {
			return
		}
		if err != nil && pinged.IsZero() && isTimeout(err) {
			// Idle: ask for a pong.
			if err = b.ping(ctx); err == nil {
				pinged = time.Now()
				continue
			}
		}
		if err != nil {
			pinged = time.Time{}
			if !lost {
				lost = true
				b.logger.Warn("redis connection lost; reconnecting", "addr", b.addr, "err", err)
			} else {
				b.logger.Debug("redis still unreachable", "addr", b.addr, "err", err)
			}
			if !sleep(ctx, retryWait(failures)) {
				return
			}
			failures++
			// Reconnect and subscribe again now: the pong says when it
			// worked.
			if err := b.ping(ctx); err == nil {
				pinged = time.Now()
			}
			continue
		}
		pinged, failures = time.Time{}, 0
		if lost {
			lost = false
			b.logger.Info("redis connection back; catching up", "addr", b.addr)
		}
		switch m := msg.(type) {
		case *goredis.Subscription:
			if m.Kind == "subscribe" {
				b.dispatch(m.Channel, nil) // catch up: see the package doc
			}
		case *goredis.Message:
			b.receiveMessage(m)
		}
	}
}

// ping asks for a pong on the pub/sub connection, connecting first if it
// has none.
func (b *Broker) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, b.pongTimeout)
	defer cancel()
	return b.pubsub.Ping(ctx)
}

// receiveMessage hands a publication from Redis to the local subscribers
// of its channel, unless this broker sent it: they have it already.
func (b *Broker) receiveMessage(m *goredis.Message) {
	p := m.Payload
	if len(p) < originLen || p[originLen-1] != ' ' {
		b.logger.Warn("dropping a publication without origin from redis", "channel", m.Channel)
		return
	}
	if p[:originLen] == b.origin {
		return
	}
	b.dispatch(m.Channel, []byte(p[originLen:]))
}

// channelName returns the Redis channel of room: channelPrefix, then the
// name with every byte but ASCII letters, digits and -._~ percent-encoded.
func channelName(room string) string {
	return roomKey(channelPrefix, room)
}

// roomKey returns prefix, then the name of room with every byte but ASCII
// letters, digits and -._~ percent-encoded: a room's name may hold any
// printable character, and the key or channel then holds no space, no ':'
// that could meet another namespace, and no glob character.
func roomKey(prefix, room string) string {
	const digits = "0123456789ABCDEF"
	var sb strings.Builder
	sb.Grow(len(prefix) + len(room))
	sb.WriteString(prefix)
	for i := range len(room) {
		c := room[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			sb.WriteByte(c)
		default:
			sb.WriteByte('%')
			sb.WriteByte(digits[c>>4])
			sb.WriteByte(digits[c&15])
		}
	}
	return sb.String()
}

// isTimeout reports whether err is a network timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// retryWait returns how long to wait after failures failed attempts in a
// row: from minRetry, doubling, up to maxRetry, less up to a quarter at
// random, so that replicas that lost Redis together do not all come back
// at once.
func retryWait(failures int) time.Duration {
	d := maxRetry
	if failures < 10 {
		d = min(minRetry<<failures, maxRetry)
	}
	return d - rand.N(d/4)
}

// sleep waits for d, or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
