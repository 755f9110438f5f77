// Package hub connects clients to rooms: it keeps each room's local
// subscribers, delivers every log entry to them in order exactly once,
// replays what a resuming client missed from the store, and tracks who is
// online and typing. It reaches other replicas through a [Broker].
//
// The hub owns who is connected where, and the order and fan-out of each
// room's log on this replica. It must not know who a person is (package
// httpapi identifies people, with sessions from the store, before it
// calls [Hub.Connect]), nor anything of HTTP or WebSockets. It imports only
// package parley, package protocol (to encode events) and the standard
// library. The WebSocket itself belongs to package httpapi: it calls
// Hub.Connect after hello, handing it a [Conn], feeds the client's frames
// to the [Client] methods from its reader, writes the replies and replays
// the hub passes to Conn.Write, and, when the hub calls Conn.Wake, writes
// what [Client.Take] yields.
//
// # Order without gaps or duplicates
//
// An entry is published after its commit, so publications of one room can
// arrive out of order (several senders commit in one batch) or not at all (a
// broker may lose them). Each room therefore remembers the last sequence
// number it delivered; it delivers the next one at once, holds later ones,
// and when a gap is not filled within a moment reads the missing entries from
// the store, where every number below a committed one is committed too.
// A lost publication that no later one follows leaves no gap to see: a
// broker that may have lost some, as after a reconnection, says so (see
// [Broker]), and the room then reads its newest number from the store and
// delivers what it lacks; and an entry whose publication failed is
// published again, so that the other replicas see it, or the gap before
// it.
//
// A client that joins with since N is subscribed first, with live entries
// held back, then sent the entries after N from the store up to the room's
// delivered number, then the held-back entries: nothing is missed or sent
// twice even while others keep sending.
//
// # Presence on several replicas
//
// Each hub keeps who is online in each room on its own replica: their
// connections, and the grace period after the last one goes. It tells a
// [Roster], shared by the replicas, when a person comes online in a room
// here and when they go, and asks it who is online anywhere: a joined
// event lists everyone online in the room on any replica, a person who
// comes online on a second replica is not announced again, and one who
// goes from one replica while online on another is neither announced
// offline nor made to leave. When a replica dies, the roster lets its
// entries expire, and one of the replicas that have the room takes its
// people offline, as at the end of a grace period (see Roster.Watch).
//
// On one replica, a join waits for a leave of the same person under way
// (see startLeave). Across replicas nothing orders them: when a person's
// last connection on one replica goes just as they join on another, the
// first may store their leave after the second found them a member, and
// stored no join. They stay online, but the log says they left, and they
// are a member again at their next join.
package hub

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/protocol"
)

// Options tune a Hub.
type Options struct {
	// Grace is how long a person stays online in a room, and a member of
	// it, after their last connection has gone, so that a reload makes no
	// noise. Zero means no grace.
	Grace time.Duration
	// QueueBytes bounds the bytes of the frames waiting for one client;
	// zero means 512 KiB. A client whose queue would grow beyond
	// it is closed as too slow.
	QueueBytes int
	// GapWait is how long a room waits for a missing publication before it
	// reads the entry from the store; zero means 100ms.
	GapWait time.Duration
	// Acked, when set, is called with the time each send took, from the
	// call of Client.Send to its ack, just before the ack is queued or
	// written: a client that has its ack finds the send counted.
	Acked func(d time.Duration)
	// PresenceInterval is the least time between two presence events of a
	// room sent from this server; zero means 250ms. A change that comes
	// sooner waits, and goes out with the others of the interval in one
	// event.
	PresenceInterval time.Duration
	// LargeRoom is the most people online in a room on this server for
	// the room to have join and leave entries and presence events that
	// name people; zero means DefaultLargeRoom. In a larger room,
	// memberships change without entries, the joined event and presence
	// events give only how many are online (docs/PROTOCOL.md), and a join
	// costs the same however large the room.
	LargeRoom int
	// MaxReplay is the most entries one join replays; zero means 1,000,
	// and a negative number no limit. A join further behind is replayed
	// the newest MaxReplay entries, and its joined event says where the
	// replay starts (see Client.Join).
	MaxReplay int
	// ReplayBudget is the most entries one connection is replayed in
	// ReplayWindow, over all its joins: a budget that fills again
	// steadily. Zero means 10,000 a minute, and a negative number no
	// limit. A join beyond the budget is replayed what is left of it,
	// the newest entries, as with MaxReplay.
	ReplayBudget int
	ReplayWindow time.Duration
	// Roster is who is online in each room on every replica; nil means
	// a LocalRoster, for a server that runs as one replica. With a
	// shared one, joined events list, and presence events and leave
	// entries follow, who is online in the whole cluster (see Roster).
	Roster Roster
}

// defaultPresenceInterval spaces a room's presence events unless Options
// say otherwise. When a large room's members all come back at once, after
// a restart say, each would otherwise send every other an online event:
// 25 million events for 5,000 members. Spaced by 250 ms, a member gets a
// few events a second, each naming everyone who came or went, and a change
// alone, as when someone opens a tab, still goes out at once.
const defaultPresenceInterval = 250 * time.Millisecond

// DefaultLargeRoom is the most people online in a room for it to tell
// its members of every arrival and departure, unless Options say
// otherwise. Each join entry and presence change goes to every member, so
// a join costs in proportion to the room: in a room of 5,000, a join storm
// asked 25 million deliveries of the server, and each joined event listed
// 5,000 names. Slack-sized rooms show no such notices; a room of 100 still
// does.
const DefaultLargeRoom = 100

// defaultQueueBytes bounds what waits for one client unless Options say
// otherwise: about 3,500 events of a short message, or 120 of the longest.
// A join storm in a large room queues an online event and a join entry to
// every member for each joiner; the bound lets a client that reads take
// them, and a client that does not hold no more than this.
const defaultQueueBytes = 512 << 10

// republishWait is how long the hub waits before it publishes again an
// entry whose publication failed (see Hub.publish): a broker that fails is
// usually reconnecting, which takes a moment, and one attempt a second
// for each room with such an entry costs it little.
const republishWait = time.Second

// defaultGapWait is how long a room waits for a missing publication unless
// Options say otherwise: long enough for a publication that is only late,
// as when several senders commit in one batch and publish in any order,
// and short enough that a lost one costs a reader little.
const defaultGapWait = 100 * time.Millisecond

// Limits of the protocol that the hub enforces.
const (
	// TypingInterval is the least time between two typing notices relayed
	// for one person in one room.
	TypingInterval = 2 * time.Second
	// maxBacklog bounds the live entries held for a client while its
	// replay runs; beyond it, the client is closed as too slow.
	maxBacklog = 4096
	// maxReadAhead is how many replays at once may read ahead. One that
	// does goes about twice as fast on two cores; with more, the cores are
	// busy anyway, and every one holds pages more in memory, which in a
	// crowd of resuming clients adds up.
	maxReadAhead = 4
	// replayPage is how many entries one replay read and frame carries.
	replayPage = parley.MaxPageSize
)

// Hub connects clients to rooms. Its methods are safe for concurrent use.
type Hub struct {
	store  parley.Store // static after New
	broker Broker       // static after New
	roster Roster       // static after New
	logger *slog.Logger // static after New
	opts   Options      // static after New
	// id tells this hub's publications on readChannel from other
	// replicas'; static after New.
	id string

	clients sync.WaitGroup // one count per connected client

	deliveries atomic.Uint64 // frames handed to live queues
	slowClosed atomic.Uint64 // clients closed as too slow

	partialReplays atomic.Uint64 // joins whose replay was cut short

	// readAhead holds a slot for each replay that reads its next page on a
	// goroutine of its own (see entryPages).
	readAhead chan struct{}

	taskMu sync.Mutex
	tasks  []func(context.Context) // guarded by taskMu; run by Run
	wake   chan struct{}           // capacity 1: there are tasks

	// Lock order: mu, then a room's mu, then leavingMu. No lock is held
	// while calling the store or the broker.
	mu      sync.Mutex
	rooms   map[string]*room            // guarded by mu
	conns   map[*Client]bool            // guarded by mu
	people  map[string]map[*Client]bool // each person's connections, by NickKey; guarded by mu
	closing bool                        // guarded by mu
	onClose map[*func()]bool            // what AfterClose registered; guarded by mu

	leavingMu sync.Mutex
	leaving   map[membership]*leave // stored leaves under way; guarded by leavingMu

	// unpublishedMu is taken with no other lock held.
	unpublishedMu sync.Mutex
	unpublished   map[string]unpublished // by room, for republish; guarded by unpublishedMu
	republishing  bool                   // republish is scheduled; guarded by unpublishedMu
}

// unpublished is an entry whose publication failed.
type unpublished struct {
	seq int64
	msg []byte // packed
}

// New returns a Hub that stores entries in store and reaches other replicas
// through broker. Call Run for its background work.
func New(store parley.Store, broker Broker, logger *slog.Logger, opts Options) *Hub {
	if opts.QueueBytes <= 0 {
		opts.QueueBytes = defaultQueueBytes
	}
	if opts.GapWait <= 0 {
		opts.GapWait = defaultGapWait
	}
	if opts.LargeRoom <= 0 {
		opts.LargeRoom = DefaultLargeRoom
	}
	if opts.MaxReplay == 0 {
		opts.MaxReplay = defaultMaxReplay
	}
	if opts.ReplayBudget == 0 {
		opts.ReplayBudget, opts.ReplayWindow = defaultReplayBudget, defaultReplayWindow
	}
	if opts.ReplayWindow <= 0 {
		opts.ReplayWindow = defaultReplayWindow
	}
	if opts.PresenceInterval <= 0 {
		opts.PresenceInterval = defaultPresenceInterval
	}
	if opts.Roster == nil {
		opts.Roster = NewLocalRoster()
	}
	return &Hub{
		store:     store,
		broker:    broker,
		roster:    opts.Roster,
		logger:    logger,
		opts:      opts,
		id:        parley.NewToken(),
		wake:      make(chan struct{}, 1),
		readAhead: make(chan struct{}, maxReadAhead),
		rooms:     make(map[string]*room),
		leaving:   make(map[membership]*leave),
		conns:     make(map[*Client]bool),
		people:    make(map[string]map[*Client]bool),
	}
}

// Run does the hub's background work until ctx is done, then returns nil:
// leave entries when grace periods end, gap fills and catch-ups from the
// store, and publishing again what the broker failed to publish.
//
// At start it treats every stored member as just disconnected: a member who
// does not come back within the grace period, to this replica or to
// another (see Roster), leaves the room. That is how a restart ends the
// memberships of guests who went away while it was down.
func (h *Hub) Run(ctx context.Context) error {
	members, err := h.store.Members(ctx)
	if err != nil {
		h.logger.Error("list members at start", "err", err)
	}
	for _, m := range members {
		h.after(h.opts.Grace, func(ctx context.Context) { h.leaveIfAway(ctx, m.Room, m.Nick) })
	}
	defer h.broker.Subscribe(sessionsChannel, h.receiveSessions)()
	defer h.broker.Subscribe(evictChannel, h.receiveEviction)()
	defer h.broker.Subscribe(readChannel, h.receiveRead)()
	defer h.broker.Subscribe(noticeChannel, h.receiveNotice)()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-h.wake:
		}
		h.taskMu.Lock()
		tasks := h.tasks
		h.tasks = nil
		h.taskMu.Unlock()
		for _, task := range tasks {
			task(ctx)
		}
	}
}

// schedule queues task for Run.
func (h *Hub) schedule(task func(context.Context)) {
	h.taskMu.Lock()
	h.tasks = append(h.tasks, task)
	h.taskMu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// after queues task for Run once d has passed. It is the hub's only timer:
// the timer's own goroutine just queues the task, which then runs on Run's
// goroutine, with Run's context, after the tasks queued before it. Grace
// periods, gap fills and presence intervals all go through it, so tests run
// them on a fake clock (testing/synctest) at their real lengths.
func (h *Hub) after(d time.Duration, task func(context.Context)) *time.Timer {
	return time.AfterFunc(d, func() { h.schedule(task) })
}

// Connect registers a new connection of the person called nick, whose
// frames go to conn. The caller has made sure that the connection is that
// person's (see package httpapi): the hub keeps only who is connected
// where. One person may have several connections at once, from tabs or
// devices; presence counts them once. Connect returns Unavailable while the
// hub is closing.
func (h *Hub) Connect(nick string, conn Conn) (*Client, error) {
	return h.ConnectSession(nick, "", conn)
}

// ConnectSession is Connect for a connection made with the session whose
// ID is session, which EndSessions closes.
func (h *Hub) ConnectSession(nick, session string, conn Conn) (*Client, error) {
	return h.ConnectAs(Identity{Nick: nick, Session: session}, conn)
}

// Identity is who a connection's person is, as the session they said
// hello with shows them. The hub trusts it: the caller has checked it.
type Identity struct {
	Nick    string
	Session string // the ID of the session, which EndSessions closes; may be empty
	// Admin says that the session's account was an administrator's when
	// the connection said hello: they may delete anyone's message.
	Admin bool
}

// ConnectAs is Connect for the person that id names.
func (h *Hub) ConnectAs(id Identity, conn Conn) (*Client, error) {
	nick, session := id.Nick, id.Session
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return nil, parley.Errorf(parley.Unavailable, "The server is shutting down; try again in a moment.")
	}
	c := &Client{
		h:       h,
		nick:    nick,
		key:     parley.NickKey(nick),
		session: session,
		admin:   id.Admin,
		conn:    conn,
		done:    make(chan struct{}),
		rooms:   make(map[string]*room),
		marked:  make(map[string]int64),
	}
	h.conns[c] = true
	if h.people[c.key] == nil {
		h.people[c.key] = make(map[*Client]bool)
	}
	h.people[c.key][c] = true
	h.clients.Add(1)
	return c, nil
}

// Disconnect ends c's connection: it leaves every room, after the grace
// period if no other connection of the same person is there, or at once
// when the person signed out. The reader calls it when the connection is
// over; calling it again does nothing.
func (c *Client) Disconnect() {
	if c.disconnected {
		return
	}
	c.disconnected = true
	h := c.h
	c.close(protocol.CloseGoingAway) // unless closed already, as by SignOut
	grace := h.opts.Grace
	if c.code == protocol.CloseNormal {
		grace = 0 // signed out: gone for good
	}
	for name, r := range c.rooms {
		delete(c.rooms, name)
		// The connection is over, so nothing is left to cancel for it.
		h.unsubscribe(context.Background(), r, c, grace)
	}

	h.mu.Lock()
	delete(h.conns, c)
	delete(h.people[c.key], c)
	if len(h.people[c.key]) == 0 {
		delete(h.people, c.key)
	}
	h.mu.Unlock()
	h.clients.Done()
}

// SignOut closes every connection of the person called nick on this
// replica with protocol.CloseNormal: the person's session has ended. As
// each connection's reader disconnects it, the person leaves their rooms
// at once, with no grace. EndSessions does the same for the connections
// of given sessions, on every replica.
func (h *Hub) SignOut(nick string) {
	key := parley.NickKey(nick)
	h.closeWhere(func(c *Client) bool { return c.key == key })
}

// sessionsChannel is the broker channel on which replicas tell each other
// of ended sessions. No room has its name: room names are printable.
const sessionsChannel = "\x00sessions"

// EndSessions closes, on every replica, every connection of the sessions
// whose IDs are ids (see ConnectSession), with protocol.CloseNormal, as
// SignOut does: the sessions have ended in the store (a sign-out, a
// revocation, a new password, a deactivated account), and their holders
// must not stay connected anywhere. The connections here close at once;
// other replicas' once the broker carries the news. An error says that it
// may not have reached every replica.
func (h *Hub) EndSessions(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	h.closeSessions(ids)
	return PublishEndedSessions(ctx, h.broker, ids...)
}

// PublishEndedSessions tells the hubs of every replica that shares broker
// that the sessions whose IDs are ids have ended, as Hub.EndSessions does,
// for a program without a hub of its own, such as an administrative
// command.
func PublishEndedSessions(ctx context.Context, broker Broker, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	msg, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	return broker.Publish(ctx, sessionsChannel, msg)
}

// receiveSessions handles a publication on sessionsChannel.
func (h *Hub) receiveSessions(msg []byte) {
	var ids []string
	if msg == nil || json.Unmarshal(msg, &ids) != nil {
		return // nil: news may have been lost, and cannot be read back
	}
	h.closeSessions(ids)
}

func (h *Hub) closeSessions(ids []string) {
	end := make(map[string]bool, len(ids))
	for _, id := range ids {
		end[id] = true
	}
	h.closeWhere(func(c *Client) bool { return c.session != "" && end[c.session] })
}

// closeWhere closes with protocol.CloseNormal every client that match
// selects.
func (h *Hub) closeWhere(match func(c *Client) bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.conns {
		if match(c) {
			c.close(protocol.CloseNormal)
		}
	}
}

// Close closes every client with protocol.CloseGoingAway, refuses new ones, and
// runs what AfterClose registered.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closing = true
	for c := range h.conns {
		c.close(protocol.CloseGoingAway)
	}
	for f := range h.onClose {
		go (*f)()
	}
	h.onClose = nil
}

// AfterClose arranges for f to run in a goroutine of its own once Close is
// called, or at once if it has been; a connection that is not a Client
// yet, such as one that has not said hello, so learns that the server is
// shutting down. Calling stop before then keeps f from running; stop
// reports whether it did.
func (h *Hub) AfterClose(f func()) (stop func() bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		go f()
		return func() bool { return false }
	}
	if h.onClose == nil {
		h.onClose = make(map[*func()]bool)
	}
	key := &f
	h.onClose[key] = true
	return func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		registered := h.onClose[key]
		delete(h.onClose, key)
		return registered
	}
}

// Wait blocks until every client has disconnected, or ctx is done.
func (h *Hub) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		h.clients.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats are a hub's counters, for metrics.
type Stats struct {
	Clients    int    // connections now
	Rooms      int    // rooms with local subscribers, or people within grace
	Deliveries uint64 // frames fanned out to clients' queues since New
	SlowClosed uint64 // clients closed as too slow since New
	// PartialReplays counts the joins since New whose replay was cut
	// short by Options.MaxReplay or Options.ReplayBudget.
	PartialReplays uint64
}

// Stats returns the hub's counters.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	return Stats{
		Clients:    len(h.conns),
		Rooms:      len(h.rooms),
		Deliveries: h.deliveries.Load(),
		SlowClosed: h.slowClosed.Load(),

		PartialReplays: h.partialReplays.Load(),
	}
}

// Online returns how many people are online in room, on any replica.
func (h *Hub) Online(ctx context.Context, room string) int {
	_, n := h.online(ctx, room)
	return n
}

// publish sends one entry or event of room to every replica. A failure is
// logged and fails nothing: the entry is stored, and an event is
// ephemeral. A replica that misses an entry fills the gap from the store
// when a later one arrives; so that one does, the room's newest entry that
// could not be published is published again (republish).
func (h *Hub) publish(ctx context.Context, room string, seq int64, frame []byte) {
	msg := pack(seq, frame)
	err := h.broker.Publish(ctx, room, msg)
	switch {
	case err == nil:
	case seq <= 0:
		h.logger.Debug("publish event", "room", room, "err", err)
	case h.keepUnpublished(room, seq, msg):
		h.logger.Warn("publish", "room", room, "seq", seq, "err", err)
	default:
		h.logger.Debug("publish", "room", room, "seq", seq, "err", err)
	}
}

// keepUnpublished records msg, the publication of entry seq of room, for
// republish, unless a later entry of room waits already. It reports
// whether none of room's did.
func (h *Hub) keepUnpublished(room string, seq int64, msg []byte) (first bool) {
	h.unpublishedMu.Lock()
	defer h.unpublishedMu.Unlock()
	u, ok := h.unpublished[room]
	if !ok || seq > u.seq {
		if h.unpublished == nil {
			h.unpublished = make(map[string]unpublished)
		}
		h.unpublished[room] = unpublished{seq, msg}
	}
	if !h.republishing {
		h.republishing = true
		h.after(republishWait, h.republish)
	}
	return !ok
}

// republish publishes again the newest entry of each room whose
// publication failed. One is enough: a replica that receives it fills the
// entries before it that it lacks from the store. What fails again waits
// for the next round.
func (h *Hub) republish(ctx context.Context) {
	h.unpublishedMu.Lock()
	waiting := h.unpublished
	h.unpublished = nil
	h.republishing = false
	h.unpublishedMu.Unlock()
	for room, u := range waiting {
		if err := h.broker.Publish(ctx, room, u.msg); err != nil {
			h.keepUnpublished(room, u.seq, u.msg)
			h.logger.Debug("publish again", "room", room, "seq", u.seq, "err", err)
			continue
		}
		h.logger.Info("published again", "room", room, "seq", u.seq)
	}
}

// publishEntry publishes a stored entry.
func (h *Hub) publishEntry(ctx context.Context, e *parley.Entry) {
	h.publish(ctx, e.Room, e.Seq, protocol.Entry(e))
}
