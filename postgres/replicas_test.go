package postgres_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/pgtest"
	"github.com/parley-chat/parley/postgres"
)

// TestReplicasNumberGapless has three stores on one database, as three
// replicas of Parley would be, append to one room at once, and send some
// messages twice at the same moment through two different stores, as a
// client retrying through another replica does. The room's numbers must be
// exactly 1 to N, each message stored once, and every send of one message
// answered with its one number.
func TestReplicasNumberGapless(t *testing.T) {
	url := pgtest.NewDatabase(t)
	// An operator's default isolation level must not change how the
	// stores' transactions see each other.
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	var name string
	if err := conn.QueryRow(t.Context(), `SELECT current_database()`).Scan(&name); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(t.Context(), `ALTER DATABASE `+name+` SET default_transaction_isolation = 'repeatable read'`); err != nil {
		t.Fatal(err)
	}
	conn.Close(t.Context())
	const replicas, sendersPer, perSender = 3, 8, 30
	stores := make([]*postgres.DB, replicas)
	// Opening at once also races the migrations, which the advisory lock
	// orders.
	var wg sync.WaitGroup
	errs := make([]error, replicas)
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = postgres.Open(t.Context(), url) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open(replica %d) = %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	const room = "busy"
	if _, err := stores[0].EnsureRoom(t.Context(), room); err != nil {
		t.Fatal(err)
	}

	type send struct {
		replica int
		e       parley.Entry
		dup     bool
		err     error
	}
	var mu sync.Mutex
	var sends []*send
	do := func(replica int, e parley.Entry) {
		s := &send{replica: replica, e: e}
		s.dup, s.err = stores[replica].Append(t.Context(), &s.e)
		mu.Lock()
		sends = append(sends, s)
		mu.Unlock()
	}
	for r := range replicas {
		for g := range sendersPer {
			wg.Go(func() {
				from := fmt.Sprintf("sender-%d-%d", r, g)
				for i := range perSender {
					e := parley.Entry{Room: room, Kind: parley.KindMessage, From: from, ClientID: fmt.Sprint(i), Text: fmt.Sprintf("message %d", i)}
					if i%3 != 0 {
						do(r, e)
						continue
					}
					// Every third message is sent through this replica and
					// the next at the same moment.
					var both sync.WaitGroup
					both.Go(func() { do(r, e) })
					both.Go(func() {
						retry := e
						retry.Text = "retried " + e.Text
						do((r+1)%replicas, retry)
					})
					both.Wait()
				}
			})
		}
	}
	wg.Wait()

	// Every replica sees the same log.
	var stored []*parley.Entry
	for i, s := range stores {
		var all []*parley.Entry
		page := parley.Page{Limit: parley.MaxPageSize, Oldest: true}
		for {
			got, err := s.Entries(t.Context(), room, page)
			if err != nil {
				t.Fatalf("replica %d: Entries(%+v) = %v", i, page, err)
			}
			if len(got) == 0 {
				break
			}
			all = append(all, got...)
			page.After = got[len(got)-1].Seq
		}
		if i == 0 {
			stored = all
		} else if len(all) != len(stored) {
			t.Errorf("replica %d: Entries() = %d entries, replica 0 read %d", i, len(all), len(stored))
		}
		r, err := s.Room(t.Context(), room)
		if err != nil || r.LastSeq != int64(replicas*sendersPer*perSender) {
			t.Errorf("replica %d: Room(%q) = %+v, %v; want LastSeq %d", i, room, r, err, replicas*sendersPer*perSender)
		}
	}

	const want = replicas * sendersPer * perSender
	if len(stored) != want {
		t.Fatalf("Entries(%q) = %d entries, want %d: one per client id", room, len(stored), want)
	}
	byKey := map[string]*parley.Entry{}
	for i, e := range stored {
		if e.Seq != int64(i+1) {
			t.Fatalf("Entries(%q)[%d].Seq = %d, want %d: numbers must be gapless and unique", room, i, e.Seq, i+1)
		}
		k := e.From + "/" + e.ClientID
		if byKey[k] != nil {
			t.Errorf("message %s is stored twice, as %d and %d", k, byKey[k].Seq, e.Seq)
		}
		byKey[k] = e
	}
	originals := map[string]int{}
	for _, s := range sends {
		k := s.e.From + "/" + s.e.ClientID
		if s.err != nil {
			t.Errorf("replica %d: Append(%s) = %v", s.replica, k, s.err)
			continue
		}
		got := byKey[k]
		if got == nil || got.Seq != s.e.Seq || got.Text != s.e.Text || !got.At.Equal(s.e.At) {
			t.Errorf("replica %d: Append(%s) = Seq %d %q at %v, but the store holds %+v", s.replica, k, s.e.Seq, s.e.Text, s.e.At, got)
		}
		if !s.dup {
			originals[k]++
		}
	}
	for k, e := range byKey {
		if originals[k] != 1 {
			t.Errorf("sends of %s (Seq %d) reported dup false %d times, want once", k, e.Seq, originals[k])
		}
	}
}

// TestReplicasClaimNamesOnce has three stores on one database, as three
// replicas of Parley would be, take claims of the same names at once, as
// accounts and as guests: for each name exactly one claim wins, whichever
// replicas the claims come through.
func TestReplicasClaimNamesOnce(t *testing.T) {
	url := pgtest.NewDatabase(t)
	const replicas, names, claims = 3, 20, 6
	stores := make([]*postgres.DB, replicas)
	for i := range stores {
		db, err := postgres.Open(t.Context(), url)
		if err != nil {
			t.Fatalf("Open(replica %d) = %v", i, err)
		}
		t.Cleanup(func() { db.Close() })
		stores[i] = db
	}
	hash := parley.HashPassword("password", parley.PasswordParams{Memory: 8, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16})
	var wg sync.WaitGroup
	errs := make([][claims]error, names)
	for n := range names {
		for c := range claims {
			wg.Go(func() {
				db := stores[(n+c)%replicas]
				name := fmt.Sprintf("name%d", n)
				if c%2 == 0 {
					errs[n][c] = db.CreateAccount(t.Context(), &parley.Account{Name: strings.ToUpper(name), PasswordHash: hash})
				} else {
					_, errs[n][c] = db.CreateSession(t.Context(), name, time.Hour)
				}
			})
		}
	}
	wg.Wait()
	for n := range names {
		won := 0
		for c, err := range errs[n] {
			switch {
			case err == nil:
				won++
			case parley.CodeOf(err) != parley.CodeNicknameTaken:
				t.Errorf("claim %d of name%d = %v, want nil or nickname_taken", c, n, err)
			}
		}
		if won != 1 {
			t.Errorf("%d of %d claims of name%d through %d replicas won, want 1", won, claims, n, replicas)
		}
	}
}

// TestReplicasMakeRoomsOnce has three stores on one database ask at once,
// as people on three replicas would, for the direct rooms of the same
// people, and for private rooms of the same name: each room is made once,
// with its people, and every other asking answers room_exists.
func TestReplicasMakeRoomsOnce(t *testing.T) {
	url := pgtest.NewDatabase(t)
	const replicas, rooms, claims = 3, 12, 6
	stores := make([]*postgres.DB, replicas)
	for i := range stores {
		db, err := postgres.Open(t.Context(), url)
		if err != nil {
			t.Fatalf("Open(replica %d) = %v", i, err)
		}
		t.Cleanup(func() { db.Close() })
		stores[i] = db
	}
	hash := parley.HashPassword("password", parley.PasswordParams{Memory: 8, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16})
	for n := range rooms + 1 {
		if err := stores[0].CreateAccount(t.Context(), &parley.Account{Name: fmt.Sprintf("user%d", n), PasswordHash: hash}); err != nil {
			t.Fatal(err)
		}
	}
	names := make([]string, rooms)
	for n := range rooms {
		if n%2 == 0 {
			names[n], _ = parley.DirectRoomName([]string{"user0", fmt.Sprintf("user%d", n+1)})
		} else {
			names[n] = parley.NewPrivateRoomName()
		}
	}
	var wg sync.WaitGroup
	errs := make([][claims]error, rooms)
	for n := range rooms {
		for c := range claims {
			wg.Go(func() {
				r := &parley.Room{Name: names[n], Kind: parley.RoomDirect}
				if n%2 == 1 {
					r.Kind, r.Owner = parley.RoomPrivate, "user0"
				}
				errs[n][c] = stores[(n+c)%replicas].CreateRoom(t.Context(), r, []string{"user0", fmt.Sprintf("USER%d", n+1)})
			})
		}
	}
	wg.Wait()
	for n := range rooms {
		won := 0
		for c, err := range errs[n] {
			switch {
			case err == nil:
				won++
			case parley.CodeOf(err) != "room_exists":
				t.Errorf("CreateRoom %d of room %d = %v, want nil or room_exists", c, n, err)
			}
		}
		if won != 1 {
			t.Errorf("%d of %d CreateRooms of room %d through %d replicas won, want 1", won, claims, n, replicas)
		}
		want := []parley.RoomMember{{Room: names[n], Name: "user0", Role: parley.RoleMember}, {Room: names[n], Name: fmt.Sprintf("user%d", n+1), Role: parley.RoleMember}}
		if n%2 == 1 {
			want[0].Role = parley.RoleOwner
		}
		// In the order of their keys, which are not their names ("user0"
		// is keyed as "usero").
		slices.SortFunc(want, func(a, b parley.RoomMember) int {
			return strings.Compare(parley.NickKey(a.Name), parley.NickKey(b.Name))
		})
		if members, err := stores[n%replicas].RoomMembers(t.Context(), names[n]); err != nil || !slices.Equal(members, want) {
			t.Errorf("RoomMembers(room %d) = %v, %v; want %v", n, members, err, want)
		}
	}
}
