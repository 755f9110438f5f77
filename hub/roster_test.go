package hub

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/parley-chat/parley"
)

// The tests of this file run several replicas as those of loss_test.go do,
// each hub with its broker on one testNet, and with a roster of its own on
// one rosterNet, which keeps who is online as package redis does: every
// entry expires unless its replica's heartbeat refreshes it, and a live
// replica takes off the expired entries of the rooms it watches. A replica
// that dies, or loses Redis, stops its heartbeat and its broker's link.

// Package redis's defaults: an entry lives 15 s after its replica's last
// heartbeat, and a replica beats every 5 s.
const (
	rosterTTL       = 15 * time.Second
	rosterHeartbeat = 5 * time.Second
)

// rosterNet is the shared store of the test rosters, as Redis is.
type rosterNet struct {
	mu      sync.Mutex
	entries map[string]map[rosterMember]*rosterEntry // by room; guarded by mu
	swept   map[string]map[rosterMember]bool         // taken off as expired, by room; guarded by mu
}

type rosterMember struct {
	replica int
	key     string
}

type rosterEntry struct {
	nick    string
	expires time.Time
}

func newRosterNet() *rosterNet {
	return &rosterNet{
		entries: make(map[string]map[rosterMember]*rosterEntry),
		swept:   make(map[string]map[rosterMember]bool),
	}
}

// netRoster is one replica's Roster on a rosterNet.
type netRoster struct {
	net *rosterNet
	id  int
	// down stops the heartbeat, as a replica that died or lost Redis.
	down atomic.Bool

	mu       sync.Mutex
	mine     map[string]map[string]string // nick by key, by room: what the heartbeat refreshes; guarded by mu
	watchers map[string]map[*watcher]bool // by room; guarded by mu
	calls    map[string]int               // by method; guarded by mu
	fail     map[string]error             // what each method fails with; guarded by mu
}

type watcher struct{ changed func(gone, back []string) }

// roster returns a new replica's roster, beating until the test ends.
func (n *rosterNet) roster(t *testing.T, id int) *netRoster {
	r := &netRoster{
		net:      n,
		id:       id,
		mine:     make(map[string]map[string]string),
		watchers: make(map[string]map[*watcher]bool),
		calls:    make(map[string]int),
		fail:     make(map[string]error),
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(rosterHeartbeat)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				r.beat()
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return r
}

// called counts a call of method, and returns the error set for it.
func (r *netRoster) called(method string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls[method]++
	return r.fail[method]
}

func (r *netRoster) Add(_ context.Context, room, key, nick string) (bool, error) {
	if err := r.called("Add"); err != nil {
		return false, err
	}
	r.mu.Lock()
	if r.mine[room] == nil {
		r.mine[room] = make(map[string]string)
	}
	r.mine[room][key] = nick
	r.mu.Unlock()
	n := r.net
	n.mu.Lock()
	defer n.mu.Unlock()
	n.putLocked(room, rosterMember{r.id, key}, nick)
	return n.elsewhereLocked(room, key, r.id), nil
}

func (r *netRoster) Remove(_ context.Context, room, key string) (bool, error) {
	r.mu.Lock()
	delete(r.mine[room], key)
	if len(r.mine[room]) == 0 {
		delete(r.mine, room)
	}
	r.mu.Unlock()
	if err := r.called("Remove"); err != nil {
		return false, err
	}
	n := r.net
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.entries[room], rosterMember{r.id, key})
	delete(n.swept[room], rosterMember{r.id, key})
	return n.elsewhereLocked(room, key, r.id), nil
}

func (r *netRoster) Elsewhere(_ context.Context, room string, keys ...string) ([]string, error) {
	if err := r.called("Elsewhere"); err != nil {
		return nil, err
	}
	r.net.mu.Lock()
	defer r.net.mu.Unlock()
	var there []string
	for _, key := range keys {
		if r.net.elsewhereLocked(room, key, r.id) {
			there = append(there, key)
		}
	}
	return there, nil
}

func (r *netRoster) Online(_ context.Context, room string) ([]string, error) {
	if err := r.called("Online"); err != nil {
		return nil, err
	}
	n := r.net
	n.mu.Lock()
	defer n.mu.Unlock()
	now := time.Now()
	seen := make(map[string]bool)
	var nicks []string
	for m, e := range n.entries[room] {
		if e.expires.After(now) && !seen[m.key] {
			seen[m.key] = true
			nicks = append(nicks, e.nick)
		}
	}
	return nicks, nil
}

func (r *netRoster) Watch(room string, changed func(gone, back []string)) func() {
	w := &watcher{changed}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.watchers[room] == nil {
		r.watchers[room] = make(map[*watcher]bool)
	}
	r.watchers[room][w] = true
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(r.watchers[room], w)
		if len(r.watchers[room]) == 0 {
			delete(r.watchers, room)
		}
	}
}

// beat refreshes r's entries, puts back those taken off meanwhile, and
// takes off the expired entries of the rooms r watches, as package redis
// does; then it tells the watchers.
func (r *netRoster) beat() {
	if r.down.Load() {
		return
	}
	r.mu.Lock()
	mine := make(map[string]map[string]string)
	for room, people := range r.mine {
		mine[room] = maps.Clone(people)
	}
	var watched []string
	for room := range r.watchers {
		watched = append(watched, room)
	}
	r.mu.Unlock()

	n := r.net
	gone := make(map[string][]string)
	back := make(map[string][]string)
	now := time.Now()
	n.mu.Lock()
	for room, people := range mine {
		for key, nick := range people {
			m := rosterMember{r.id, key}
			if n.entries[room][m] == nil && n.swept[room][m] {
				back[room] = append(back[room], nick)
			}
			n.putLocked(room, m, nick)
		}
	}
	for _, room := range watched {
		var expired []rosterMember
		for m, e := range n.entries[room] {
			if !e.expires.After(now) {
				expired = append(expired, m)
			}
		}
		for _, m := range expired {
			nick := n.entries[room][m].nick
			delete(n.entries[room], m)
			if n.swept[room] == nil {
				n.swept[room] = make(map[rosterMember]bool)
			}
			n.swept[room][m] = true
			if !n.elsewhereLocked(room, m.key, -1) && !slices.ContainsFunc(gone[room], func(g string) bool { return parley.NickKey(g) == m.key }) {
				gone[room] = append(gone[room], nick)
			}
		}
	}
	n.mu.Unlock()

	r.mu.Lock()
	var calls []func()
	for _, room := range watched {
		if len(gone[room]) == 0 && len(back[room]) == 0 {
			continue
		}
		for w := range r.watchers[room] {
			g, b := gone[room], back[room]
			calls = append(calls, func() { w.changed(g, b) })
		}
	}
	r.mu.Unlock()
	for _, call := range calls {
		call()
	}
}

// putLocked adds or refreshes an entry. n.mu is held.
func (n *rosterNet) putLocked(room string, m rosterMember, nick string) {
	if n.entries[room] == nil {
		n.entries[room] = make(map[rosterMember]*rosterEntry)
	}
	n.entries[room][m] = &rosterEntry{nick: nick, expires: time.Now().Add(rosterTTL)}
	delete(n.swept[room], m)
}

// elsewhereLocked reports whether key has a live entry in room of a
// replica other than not. n.mu is held.
func (n *rosterNet) elsewhereLocked(room, key string, not int) bool {
	now := time.Now()
	for m, e := range n.entries[room] {
		if m.key == key && m.replica != not && e.expires.After(now) {
			return true
		}
	}
	return false
}

// rosterReplicas returns n hubs on one fresh store, which setup, when not
// nil, fills before they start; each has its broker on one testNet and
// its roster on one rosterNet.
func rosterReplicas(t *testing.T, n int, setup func(parley.Store)) ([]*fixture, []*netBroker, []*netRoster) {
	t.Helper()
	db := openStore(t)
	if setup != nil {
		setup(db)
	}
	net, rn := new(testNet), newRosterNet()
	var fs []*fixture
	var bs []*netBroker
	var rs []*netRoster
	for i := range n {
		b, r := net.broker(), rn.roster(t, i)
		fs = append(fs, startHubOn(t, db, b, Options{Grace: serverGrace, Roster: r}))
		bs = append(bs, b)
		rs = append(rs, r)
	}
	return fs, bs, rs
}

// die stops the heartbeat of replica i and cuts its broker's link: to the
// others, it is dead. Its hub runs on, unseen.
func die(bs []*netBroker, rs []*netRoster, i int) {
	rs[i].down.Store(true)
	bs[i].down.Store(true)
}

// countEntries returns how many entries of room are of kind and from nick.
func countEntries(t *testing.T, store parley.Store, room, kind, nick string) int {
	t.Helper()
	entries, err := store.Entries(context.Background(), room, parley.Page{Limit: parley.MaxPageSize})
	if err != nil {
		t.Fatalf("Entries(%q) = %v", room, err)
	}
	n := 0
	for _, e := range entries {
		if string(e.Kind) == kind && e.From == nick {
			n++
		}
	}
	return n
}

// allOf waits, as all does, for events that each of matches accepts; one
// event may satisfy several, as a presence event that names several
// people.
func (p *probe) allOf(t *testing.T, what string, matches ...func(event) bool) {
	t.Helper()
	for len(matches) > 0 {
		select {
		case e := <-p.events:
			matches = slices.DeleteFunc(matches, func(m func(event) bool) bool { return m(e) })
		default:
			if !p.settle() {
				t.Fatalf("%s: not all of %s by %v on the test's clock", p.c.Nick(), what, clock())
			}
		}
	}
}

func isEntryOf(kind, nick string) func(event) bool {
	return func(e event) bool { return e.Type == kind && e.From == nick }
}

// TestJoinedListsEveryReplica: joined.online and Hub.Online name the
// people online in the room on every replica.
func TestJoinedListsEveryReplica(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		fs, _, _ := rosterReplicas(t, 2, nil)
		bob, _ := fs[0].connect(t, "bob")
		mustJoin(t, bob, "general", nil)
		carol, _ := fs[1].connect(t, "carol")
		mustJoin(t, carol, "general", nil)
		dan, pd := fs[0].connect(t, "dan")
		mustJoin(t, dan, "general", nil)
		joined := pd.next(t, "joined", isType("joined"))
		if got, want := fmt.Sprint(joined.Online), "[bob carol dan]"; got != want {
			t.Errorf("joined.online on replica 0 = %s, want %s", got, want)
		}
		for i, f := range fs {
			if n := f.hub.Online(ctx, "general"); n != 3 {
				t.Errorf("replica %d: Online() = %d, want 3", i, n)
			}
		}
	})
}

// TestOnTwoReplicasOneGoes: a person online on two replicas who leaves one
// stays online, and a member: nothing is announced or stored until they
// leave the other too, which then announces them offline and stores their
// leave, once.
func TestOnTwoReplicasOneGoes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs, _, _ := rosterReplicas(t, 2, nil)
		bob, pb := fs[0].connect(t, "bob")
		mustJoin(t, bob, "general", nil)
		carol, pc := fs[1].connect(t, "carol")
		mustJoin(t, carol, "general", nil)
		anaA, _ := fs[0].connect(t, "ana")
		mustJoin(t, anaA, "general", nil)
		advance(defaultPresenceInterval)
		for _, p := range []*probe{pb, pc} {
			p.next(t, "ana online, from replica 0", isPresence("ana", true))
		}

		anaB, pa := fs[1].connect(t, "Ana") // another device
		mustJoin(t, anaB, "general", nil)
		if got, want := fmt.Sprint(pa.next(t, "joined", isType("joined")).Online), "[Ana bob carol]"; got != want {
			t.Errorf("joined.online of ana's second replica = %s, want %s", got, want)
		}
		isAnaPresence := func(e event) bool {
			return isPresence("ana", true)(e) || isPresence("Ana", true)(e) || isPresence("ana", false)(e) || isPresence("Ana", false)(e)
		}
		advance(defaultPresenceInterval)
		pb.none(t, "about ana, online already, on her second replica", isAnaPresence)

		anaA.Disconnect()
		advance(serverGrace + rosterTTL + rosterHeartbeat) // her grace on replica 0, and any expiry after it
		for _, p := range []*probe{pb, pc} {
			p.none(t, "about ana, online on replica 1", func(e event) bool { return isAnaPresence(e) || isEntryOf("leave", "ana")(e) })
		}
		if n := countEntries(t, fs[0].store, "general", "leave", "ana"); n != 0 {
			t.Errorf("%d leave entries of ana online on replica 1, want none", n)
		}
		if n := fs[0].hub.Online(context.Background(), "general"); n != 3 {
			t.Errorf("replica 0: Online() = %d, want 3: bob, carol and ana on replica 1", n)
		}

		anaB.Disconnect()
		advance(serverGrace)
		for _, p := range []*probe{pb, pc} {
			p.all(t, "ana offline and her leave", func(e event) bool { return isPresence("Ana", false)(e) }, isEntryOf("leave", "Ana"))
		}
		advance(rosterTTL + rosterHeartbeat)
		for _, p := range []*probe{pb, pc} {
			p.none(t, "about ana again", func(e event) bool { return isAnaPresence(e) || e.Type == "leave" })
		}
		if n := countEntries(t, fs[0].store, "general", "leave", "Ana") + countEntries(t, fs[0].store, "general", "leave", "ana"); n != 1 {
			t.Errorf("%d leave entries of ana, want 1", n)
		}
	})
}

// TestDeadReplicasPeopleGoOffline: the people of a replica that stops
// (kill -9: no heartbeat, no publication) go offline on the others once
// their entries expire, as at the end of a grace period, each with one
// leave entry, whichever replica takes them off.
func TestDeadReplicasPeopleGoOffline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		fs, bs, rs := rosterReplicas(t, 3, nil)
		ana, pa := fs[0].connect(t, "ana")
		mustJoin(t, ana, "general", nil)
		dan, pd := fs[2].connect(t, "dan")
		mustJoin(t, dan, "general", nil)
		for _, nick := range []string{"bob", "carol"} {
			c, _ := fs[1].connect(t, nick)
			mustJoin(t, c, "general", nil)
		}
		// erin is on the dead replica and on a live one: she stays.
		erinDead, _ := fs[1].connect(t, "erin")
		mustJoin(t, erinDead, "general", nil)
		erin, _ := fs[2].connect(t, "erin")
		mustJoin(t, erin, "general", nil)
		advance(defaultPresenceInterval)
		for _, p := range []*probe{pa, pd} {
			p.allOf(t, "everyone online", isPresence("bob", true), isPresence("carol", true), isPresence("erin", true))
		}

		die(bs, rs, 1)
		isGoing := func(e event) bool { return e.Type == "leave" || isType("offline", "presence")(e) }
		advance(rosterTTL - time.Second)
		for _, p := range []*probe{pa, pd} {
			p.none(t, "before the dead replica's entries expire", isGoing)
		}
		advance(time.Second + rosterHeartbeat + defaultPresenceInterval)
		for _, p := range []*probe{pa, pd} {
			p.allOf(t, "the dead replica's people offline, and their leaves",
				isPresence("bob", false), isPresence("carol", false), isEntryOf("leave", "bob"), isEntryOf("leave", "carol"))
		}
		advance(time.Hour)
		for _, p := range []*probe{pa, pd} {
			p.none(t, "erin offline, or anything more", func(e event) bool { return isPresence("erin", false)(e) || e.Type == "leave" })
		}
		for _, nick := range []string{"bob", "carol"} {
			if n := countEntries(t, fs[0].store, "general", "leave", nick); n != 1 {
				t.Errorf("%d leave entries of %s, want 1", n, nick)
			}
		}
		if n := countEntries(t, fs[0].store, "general", "leave", "erin"); n != 0 {
			t.Errorf("%d leave entries of erin, online on a live replica, want none", n)
		}
		for _, i := range []int{0, 2} {
			if n := fs[i].hub.Online(ctx, "general"); n != 3 {
				t.Errorf("replica %d: Online() = %d, want 3: ana, dan and erin", i, n)
			}
		}
	})
}

// TestReplicaBackAfterLosingRoster: a replica that could not reach the
// roster for longer than its entries live has its people taken offline by
// the others; once it reaches it again, they are announced online again,
// and members again.
func TestReplicaBackAfterLosingRoster(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs, bs, rs := rosterReplicas(t, 2, nil)
		ana, pa := fs[0].connect(t, "ana")
		mustJoin(t, ana, "general", nil)
		bob, _ := fs[1].connect(t, "bob")
		mustJoin(t, bob, "general", nil)
		advance(defaultPresenceInterval)
		pa.next(t, "bob online", isPresence("bob", true))

		die(bs, rs, 1)
		advance(rosterTTL + rosterHeartbeat + defaultPresenceInterval)
		pa.all(t, "bob offline, and his leave", isPresence("bob", false), isEntryOf("leave", "bob"))

		rs[1].down.Store(false)
		bs[1].reconnect()
		advance(rosterHeartbeat + defaultPresenceInterval)
		pa.all(t, "bob online again, and his join", isPresence("bob", true), isEntryOf("join", "bob"))
		if n := fs[0].hub.Online(context.Background(), "general"); n != 2 {
			t.Errorf("Online() = %d, want 2", n)
		}
		members, err := fs[0].store.Members(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(members, parley.Member{Room: "general", Nick: "bob"}) {
			t.Errorf("Members() = %v, want bob a member again", members)
		}
	})
}

// TestRestartKeepsMembersOnlineElsewhere: a replica that starts ends the
// stored memberships of people who do not come back within the grace
// period, but not of those online on another replica.
func TestRestartKeepsMembersOnlineElsewhere(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		fs, _, rs := rosterReplicas(t, 2, func(s parley.Store) {
			for _, nick := range []string{"ghost", "roamer"} {
				if _, err := s.Join(ctx, "general", nick); err != nil {
					t.Fatal(err)
				}
			}
		})
		roamer, _ := fs[1].connect(t, "roamer")
		mustJoin(t, roamer, "general", nil)
		ana, pa := fs[0].connect(t, "ana")
		mustJoin(t, ana, "general", nil)
		advance(serverGrace)
		pa.next(t, "the ghost's leave", isEntryOf("leave", "ghost"))
		pa.none(t, "another leave", isType("leave"))
		if n := countEntries(t, fs[0].store, "general", "leave", "roamer"); n != 0 {
			t.Errorf("%d leave entries of roamer, online on replica 1, want none", n)
		}
		rs[0].mu.Lock()
		asked := rs[0].calls["Elsewhere"]
		rs[0].mu.Unlock()
		if asked == 0 {
			t.Error("replica 0 never asked the roster whether roamer was online elsewhere")
		}
	})
}

// TestPresenceSaysOnlineElsewhere: a presence event says a person is online
// when they went from this replica within the interval but are online on
// another.
func TestPresenceSaysOnlineElsewhere(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs, _, _ := rosterReplicas(t, 2, nil)
		bob, pb := fs[0].connect(t, "bob")
		mustJoin(t, bob, "general", nil)
		pb.next(t, "bob online: an interval starts", isPresence("bob", true))
		anaA, _ := fs[0].connect(t, "ana")
		mustJoin(t, anaA, "general", nil) // waits for the interval's end
		anaB, _ := fs[1].connect(t, "ana")
		mustJoin(t, anaB, "general", nil) // online already: not announced
		if err := anaA.Leave(context.Background(), "general"); err != nil {
			t.Fatal(err)
		}
		advance(defaultPresenceInterval)
		e := pb.next(t, "the interval's changes", isType("online", "offline", "presence"))
		if !isPresence("ana", true)(e) {
			t.Errorf("at the interval's end bob got %+v, want ana online: she is on replica 1", e)
		}
		pb.none(t, "ana offline", isPresence("ana", false))
	})
}

// TestRosterFailureDecidesAsOneReplica: when the roster fails, a replica
// decides as it would alone: it announces and stores what it sees.
func TestRosterFailureDecidesAsOneReplica(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs, _, rs := rosterReplicas(t, 2, nil)
		bob, pb := fs[0].connect(t, "bob")
		mustJoin(t, bob, "general", nil)
		anaB, _ := fs[1].connect(t, "ana")
		mustJoin(t, anaB, "general", nil)
		advance(defaultPresenceInterval)
		pb.next(t, "ana online", isPresence("ana", true))

		errDown := errors.New("roster down")
		rs[0].mu.Lock()
		for _, m := range []string{"Add", "Remove", "Elsewhere", "Online"} {
			rs[0].fail[m] = errDown
		}
		rs[0].mu.Unlock()
		carol, pc := fs[0].connect(t, "carol")
		mustJoin(t, carol, "general", nil)
		if got, want := fmt.Sprint(pc.next(t, "joined", isType("joined")).Online), "[bob carol]"; got != want {
			t.Errorf("joined.online with the roster down = %s, want %s: this replica's", got, want)
		}
		anaA, _ := fs[0].connect(t, "ana")
		mustJoin(t, anaA, "general", nil)
		if err := anaA.Leave(context.Background(), "general"); err != nil {
			t.Fatal(err)
		}
		advance(defaultPresenceInterval)
		pb.all(t, "ana offline, and her leave, as one replica would", isPresence("ana", false), isEntryOf("leave", "ana"))
	})
}
