package storetest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// TestRun runs the suite on a correct store: every check passes.
func TestRun(t *testing.T) {
	Run(t, func(t *testing.T) OpenFunc { return newMemDB().open() })
}

// TestChecksCatchBugs runs checks on stores with one bug each, and wants
// each bug caught by the checks that exist to catch it. A check that
// cannot fail proves nothing.
func TestChecksCatchBugs(t *testing.T) {
	for _, m := range mutants {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			for _, name := range m.caughtBy {
				i := slices.IndexFunc(checks, func(c check) bool { return c.name == name })
				if i < 0 {
					t.Fatalf("no check named %q", name)
				}
				open := newMemDB().open()
				if m.newDB != nil {
					open = m.newDB()
				}
				if m.wrap != nil {
					open = wrapOpen(open, m.wrap)
				}
				failures := runCheck(t, checks[i], open)
				if len(failures) == 0 {
					t.Errorf("check %s passed a store with bug %q", name, m.name)
				}
				for _, f := range failures {
					t.Logf("%s: %s", name, f)
				}
			}
		})
	}
}

// TestCheckNames keeps the subtest names unique, so that -run selects one.
func TestCheckNames(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range checks {
		if seen[c.name] {
			t.Errorf("two checks are named %q", c.name)
		}
		seen[c.name] = true
	}
}

// runCheck runs c against the store open opens and returns its failures.
func runCheck(t *testing.T, c check, open OpenFunc) []string {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.run(r, open)
	}()
	<-done
	return r.failures
}

// recorder stands in for the *testing.T of a check, and records its
// failures instead of failing the test.
type recorder struct {
	testing.TB

	mu       sync.Mutex
	failures []string // guarded by mu
}

func (r *recorder) Helper()                           {}
func (r *recorder) Logf(format string, args ...any)   {}
func (r *recorder) Error(args ...any)                 { r.record(fmt.Sprint(args...)) }
func (r *recorder) Errorf(format string, args ...any) { r.record(fmt.Sprintf(format, args...)) }

// Fatal and Fatalf end the check's goroutine, as testing.T's do.
func (r *recorder) Fatal(args ...any) {
	r.Error(args...)
	runtime.Goexit()
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recorder) record(failure string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, failure)
}

// A mutant is a store with one bug, and the checks that must catch it.
type mutant struct {
	name     string
	newDB    func() OpenFunc             // replaces the correct store's, if set
	wrap     func(s parley.Store) broken // changes the store's behaviour, if set
	caughtBy []string
}

var errBroken = errors.New("broken")

var mutants = []mutant{
	{
		name:     "archived rooms take messages",
		newDB:    bugged(func(db *memDB) { db.bugArchivedTakesMessages = true }),
		caughtBy: []string{"Archive"},
	},
	{
		name:     "archived rooms take edits and deletions",
		newDB:    bugged(func(db *memDB) { db.bugArchivedTakesAmendments = true }),
		caughtBy: []string{"Archive"},
	},
	{
		name:     "archiving again restamps",
		newDB:    bugged(func(db *memDB) { db.bugRearchiveRestamps = true }),
		caughtBy: []string{"Archive"},
	},
	{
		name: "archives are not shown",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, room: func(ctx context.Context, name string) (*parley.Room, error) {
				r, err := s.Room(ctx, name)
				if r != nil {
					r.ArchivedAt = nil
				}
				return r, err
			}}
		},
		caughtBy: []string{"Archive"},
	},
	{
		name:     "a deleted room's log comes back with its name",
		newDB:    bugged(func(db *memDB) { db.bugDeleteKeepsLog = true }),
		caughtBy: []string{"DeleteRoom"},
	},
	{
		name:     "a deleted room's read markers stay",
		newDB:    bugged(func(db *memDB) { db.bugDeleteKeepsMarkers = true }),
		caughtBy: []string{"DeleteRoom"},
	},
	{
		name:     "a deleted room's access list comes back with its name",
		newDB:    bugged(func(db *memDB) { db.bugDeleteKeepsAccess = true }),
		caughtBy: []string{"DeleteRoom"},
	},
	{
		name:     "the default room can be deleted",
		newDB:    bugged(func(db *memDB) { db.bugDeleteDefault = true }),
		caughtBy: []string{"DeleteRoom"},
	},
	{
		name: "every method fails",
		wrap: func(s parley.Store) broken {
			return broken{
				Store:         s,
				ensureRoom:    func(context.Context, string) (*parley.Room, error) { return nil, errBroken },
				room:          func(context.Context, string) (*parley.Room, error) { return nil, errBroken },
				rooms:         func(context.Context, string, int) ([]*parley.Room, error) { return nil, errBroken },
				append:        func(context.Context, *parley.Entry) (bool, error) { return false, errBroken },
				amend:         func(context.Context, *parley.Entry, bool) (bool, error) { return false, errBroken },
				join:          func(context.Context, string, string) (*parley.Entry, error) { return nil, errBroken },
				leave:         func(context.Context, string, string) (*parley.Entry, error) { return nil, errBroken },
				members:       func(context.Context) ([]parley.Member, error) { return nil, errBroken },
				entries:       func(context.Context, string, parley.Page) ([]*parley.Entry, error) { return nil, errBroken },
				ping:          func(context.Context) error { return errBroken },
				createSession: func(context.Context, string, time.Duration) (string, error) { return "", errBroken },
				session:       func(context.Context, string) (*parley.Session, error) { return nil, errBroken },
				extendSession: func(context.Context, string, time.Duration) error { return errBroken },
				endSession:    func(context.Context, string) error { return errBroken },
				markRead:      func(context.Context, string, string, int64) error { return errBroken },
				readMarker:    func(context.Context, string, string) (int64, error) { return 0, errBroken },
				readMarkers:   func(context.Context, string, string, int) ([]parley.ReadMarker, error) { return nil, errBroken },
			}
		},
		caughtBy: []string{
			"DefaultRoom", "EnsureRoom", "EnsureRoomConcurrent", "EnsureRoomInvalid", "RoomNotFound", "Rooms", "RoomsPaged",
			"Append", "AppendConcurrent", "AppendDuplicate", "AppendDuplicateConcurrent", "AppendUnknownRoom",
			"AppendInvalid", "AppendCancelled", "JoinLeave", "JoinLeaveErrors", "JoinConcurrent", "Members",
			"Entries", "EntriesEmptyRoom", "EntriesErrors", "Ping", "Reopen", "CloseWhileAppending",
			"Session", "SessionNicknameTaken", "SessionEnd", "SessionExpiry", "SessionConcurrent", "SessionReopen",
			"Amend", "AmendErrors", "AmendDuplicate", "AmendConcurrent",
			"ReadMarkers", "ReadMarkerErrors", "ReadMarkerConcurrent",
		},
	},
	{
		name: "cannot be opened",
		newDB: func() OpenFunc {
			return func(context.Context) (parley.Store, error) { return nil, errBroken }
		},
		caughtBy: []string{"DefaultRoom", "Reopen"},
	},
	{
		name: "room lookups fail",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, room: func(context.Context, string) (*parley.Room, error) { return nil, errBroken }}
		},
		caughtBy: []string{"DefaultRoom", "EnsureRoom", "Append"},
	},
	{
		name: "joins fail",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, join: func(context.Context, string, string) (*parley.Entry, error) { return nil, errBroken }}
		},
		caughtBy: []string{"JoinLeave", "JoinConcurrent", "Members", "Reopen"},
	},
	{
		name: "leaves fail",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, leave: func(context.Context, string, string) (*parley.Entry, error) { return nil, errBroken }}
		},
		caughtBy: []string{"JoinLeave", "Members"},
	},
	{
		name: "the default room is missing",
		newDB: func() OpenFunc {
			db := newMemDB()
			delete(db.rooms, parley.DefaultRoom)
			return db.open()
		},
		caughtBy: []string{"DefaultRoom"},
	},
	{
		name: "rooms come unsorted",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, rooms: func(ctx context.Context, after string, limit int) ([]*parley.Room, error) {
				rooms, err := s.Rooms(ctx, after, limit)
				slices.Reverse(rooms)
				return rooms, err
			}}
		},
		caughtBy: []string{"EnsureRoom", "EnsureRoomConcurrent", "Rooms"},
	},
	{
		name: "rooms lose their last sequence number",
		wrap: func(s parley.Store) broken {
			return broken{
				Store: s,
				room: func(ctx context.Context, name string) (*parley.Room, error) {
					r, err := s.Room(ctx, name)
					if r != nil {
						r.LastSeq = 0
					}
					return r, err
				},
				rooms: func(ctx context.Context, after string, limit int) ([]*parley.Room, error) {
					rooms, err := s.Rooms(ctx, after, limit)
					for _, r := range rooms {
						r.LastSeq = 0
					}
					return rooms, err
				},
			}
		},
		caughtBy: []string{"Append", "Rooms"},
	},
	{
		name: "a room is created anew each time",
		wrap: func(s parley.Store) broken {
			var n atomic.Int64
			return broken{Store: s, ensureRoom: func(ctx context.Context, name string) (*parley.Room, error) {
				r, err := s.EnsureRoom(ctx, name)
				if r != nil {
					r.CreatedAt = r.CreatedAt.Add(time.Duration(n.Add(1)) * time.Millisecond)
				}
				return r, err
			}}
		},
		caughtBy: []string{"EnsureRoom", "EnsureRoomConcurrent"},
	},
	{
		name: "rooms are stamped in local time",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, ensureRoom: func(ctx context.Context, name string) (*parley.Room, error) {
				r, err := s.EnsureRoom(ctx, name)
				if r != nil {
					r.CreatedAt = r.CreatedAt.In(time.FixedZone("CET", 3600))
				}
				return r, err
			}}
		},
		caughtBy: []string{"EnsureRoom"},
	},
	{
		name: "room names are case-insensitive",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, room: func(ctx context.Context, name string) (*parley.Room, error) {
				if name == "General" {
					name = parley.DefaultRoom
				}
				return s.Room(ctx, name)
			}}
		},
		caughtBy: []string{"RoomNotFound"},
	},
	{
		name: "NotFound is not classified",
		wrap: func(s parley.Store) broken {
			hide := func(err error) error {
				if parley.KindOf(err) == parley.NotFound {
					return errors.New(err.Error())
				}
				return err
			}
			return broken{
				Store: s,
				room: func(ctx context.Context, name string) (*parley.Room, error) {
					r, err := s.Room(ctx, name)
					return r, hide(err)
				},
				append: func(ctx context.Context, e *parley.Entry) (bool, error) {
					dup, err := s.Append(ctx, e)
					return dup, hide(err)
				},
				join: func(ctx context.Context, room, nick string) (*parley.Entry, error) {
					e, err := s.Join(ctx, room, nick)
					return e, hide(err)
				},
				entries: func(ctx context.Context, room string, p parley.Page) ([]*parley.Entry, error) {
					entries, err := s.Entries(ctx, room, p)
					return entries, hide(err)
				},
			}
		},
		caughtBy: []string{"RoomNotFound", "AppendUnknownRoom", "JoinLeaveErrors", "EntriesErrors"},
	},
	{
		name: "bad input is accepted",
		wrap: func(s parley.Store) broken {
			return broken{
				Store: s,
				ensureRoom: func(ctx context.Context, name string) (*parley.Room, error) {
					r, err := s.EnsureRoom(ctx, name)
					if parley.KindOf(err) == parley.Invalid {
						return &parley.Room{Name: name}, nil
					}
					return r, err
				},
				append: func(ctx context.Context, e *parley.Entry) (bool, error) {
					dup, err := s.Append(ctx, e)
					if parley.KindOf(err) == parley.Invalid {
						return false, nil
					}
					return dup, err
				},
				leave: func(ctx context.Context, room, nick string) (*parley.Entry, error) {
					e, err := s.Leave(ctx, room, nick)
					if parley.KindOf(err) == parley.Invalid {
						return nil, nil
					}
					return e, err
				},
				entries: func(ctx context.Context, room string, p parley.Page) ([]*parley.Entry, error) {
					if p.Validate() != nil {
						return nil, nil
					}
					return s.Entries(ctx, room, p)
				},
			}
		},
		caughtBy: []string{"EnsureRoomInvalid", "AppendInvalid", "JoinLeaveErrors", "EntriesErrors"},
	},
	{
		name: "bad input is stored",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, ensureRoom: func(ctx context.Context, name string) (*parley.Room, error) {
				if parley.ValidateRoomName(name) != nil {
					s.EnsureRoom(ctx, "stored anyway")
				}
				return s.EnsureRoom(ctx, name)
			}}
		},
		caughtBy: []string{"EnsureRoomInvalid"},
	},
	{
		name: "failed appends change the entry",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, append: func(ctx context.Context, e *parley.Entry) (bool, error) {
				dup, err := s.Append(ctx, e)
				if err != nil {
					e.Seq, e.At = 1, time.Now()
				}
				return dup, err
			}}
		},
		caughtBy: []string{"AppendUnknownRoom", "AppendInvalid"},
	},
	{
		name: "appends create rooms",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, append: func(ctx context.Context, e *parley.Entry) (bool, error) {
				s.EnsureRoom(ctx, e.Room)
				return s.Append(ctx, e)
			}}
		},
		caughtBy: []string{"AppendUnknownRoom"},
	},
	{
		name: "appends report the wrong number",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, append: func(ctx context.Context, e *parley.Entry) (bool, error) {
				dup, err := s.Append(ctx, e)
				if err == nil && !dup {
					e.Seq--
				}
				return dup, err
			}}
		},
		caughtBy: []string{"Append", "AppendConcurrent", "AppendDuplicate", "JoinLeave", "Entries", "Reopen", "CloseWhileAppending"},
	},
	{
		name: "appends report the wrong time",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, append: func(ctx context.Context, e *parley.Entry) (bool, error) {
				dup, err := s.Append(ctx, e)
				e.At = e.At.Add(-time.Hour)
				return dup, err
			}}
		},
		caughtBy: []string{"Append"},
	},
	{
		name: "appends are stamped in local time",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, append: func(ctx context.Context, e *parley.Entry) (bool, error) {
				dup, err := s.Append(ctx, e)
				e.At = e.At.In(time.FixedZone("CET", 3600))
				return dup, err
			}}
		},
		caughtBy: []string{"Append"},
	},
	{
		name: "a sender's messages are reordered",
		wrap: func(s parley.Store) broken {
			var mu sync.Mutex
			held := map[string]*parley.Entry{}
			// Every second message of a sender is committed with the
			// next one, after it.
			return broken{Store: s, append: func(ctx context.Context, e *parley.Entry) (bool, error) {
				mu.Lock()
				defer mu.Unlock()
				if prev := held[e.From]; prev != nil {
					delete(held, e.From)
					dup, err := s.Append(ctx, e)
					s.Append(ctx, prev)
					return dup, err
				}
				if e.Room == parley.DefaultRoom && e.ClientID != "0" {
					held[e.From] = e
					e.Seq = 1 << 40 // Not yet known; stands out if it is ever read.
					return false, nil
				}
				return s.Append(ctx, e)
			}}
		},
		caughtBy: []string{"AppendConcurrent"},
	},
	{
		name: "retries are not recognised",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, append: func(ctx context.Context, e *parley.Entry) (bool, error) {
				_, err := s.Append(ctx, e)
				return false, err
			}}
		},
		caughtBy: []string{"AppendDuplicate", "AppendDuplicateConcurrent", "Reopen"},
	},
	{
		name: "retries keep their own text",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, append: func(ctx context.Context, e *parley.Entry) (bool, error) {
				text := e.Text
				dup, err := s.Append(ctx, e)
				e.Text = text
				return dup, err
			}}
		},
		caughtBy: []string{"AppendDuplicate", "AppendDuplicateConcurrent"},
	},
	{
		name: "appends ignore cancellation",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, append: func(ctx context.Context, e *parley.Entry) (bool, error) {
				return s.Append(context.WithoutCancel(ctx), e)
			}}
		},
		caughtBy: []string{"AppendCancelled"},
	},
	{
		name: "appends fail after storing",
		wrap: func(s parley.Store) broken {
			var n atomic.Int64
			return broken{Store: s, append: func(ctx context.Context, e *parley.Entry) (bool, error) {
				dup, err := s.Append(ctx, e)
				if err == nil && n.Add(1)%7 == 0 {
					return false, errBroken
				}
				return dup, err
			}}
		},
		caughtBy: []string{"CloseWhileAppending"},
	},
	{
		name: "joins and leaves always report an entry",
		wrap: func(s parley.Store) broken {
			fake := func(kind parley.EntryKind, change func(context.Context, string, string) (*parley.Entry, error)) func(context.Context, string, string) (*parley.Entry, error) {
				return func(ctx context.Context, room, nick string) (*parley.Entry, error) {
					e, err := change(ctx, room, nick)
					if e == nil && err == nil {
						e = &parley.Entry{Room: room, Kind: kind, From: nick}
					}
					return e, err
				}
			}
			return broken{Store: s, join: fake(parley.KindJoin, s.Join), leave: fake(parley.KindLeave, s.Leave)}
		},
		caughtBy: []string{"JoinLeave", "JoinConcurrent"},
	},
	{
		name: "joins report no entry",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, join: func(ctx context.Context, room, nick string) (*parley.Entry, error) {
				_, err := s.Join(ctx, room, nick)
				return nil, err
			}}
		},
		caughtBy: []string{"JoinLeave", "JoinConcurrent"},
	},
	{
		name: "joins are recorded as leaves",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, join: func(ctx context.Context, room, nick string) (*parley.Entry, error) {
				e, err := s.Join(ctx, room, nick)
				if e != nil {
					e.Kind = parley.KindLeave
				}
				return e, err
			}}
		},
		caughtBy: []string{"JoinLeave"},
	},
	{
		name: "joins are stamped in local time",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, join: func(ctx context.Context, room, nick string) (*parley.Entry, error) {
				e, err := s.Join(ctx, room, nick)
				if e != nil {
					e.At = e.At.In(time.FixedZone("CET", 3600))
				}
				return e, err
			}}
		},
		caughtBy: []string{"JoinLeave"},
	},
	{
		name: "members are forgotten",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, members: func(context.Context) ([]parley.Member, error) { return nil, nil }}
		},
		caughtBy: []string{"JoinLeave", "JoinConcurrent", "Members", "Reopen"},
	},
	{
		name: "pages come newest first",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, entries: func(ctx context.Context, room string, p parley.Page) ([]*parley.Entry, error) {
				entries, err := s.Entries(ctx, room, p)
				slices.Reverse(entries)
				return entries, err
			}}
		},
		caughtBy: []string{"Append", "AppendConcurrent", "AppendDuplicateConcurrent", "JoinLeave", "Entries", "Reopen", "CloseWhileAppending"},
	},
	{
		name: "pages lose an entry",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, entries: func(ctx context.Context, room string, p parley.Page) ([]*parley.Entry, error) {
				entries, err := s.Entries(ctx, room, p)
				if len(entries) > 1 {
					entries = entries[1:]
				}
				return entries, err
			}}
		},
		caughtBy: []string{"Append", "AppendConcurrent", "AppendDuplicateConcurrent", "Entries"},
	},
	{
		name: "pages ignore before",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, entries: func(ctx context.Context, room string, p parley.Page) ([]*parley.Entry, error) {
				if p.After == 0 {
					p.Before = 0
				}
				return s.Entries(ctx, room, p)
			}}
		},
		caughtBy: []string{"Entries"},
	},
	{
		name: "empty rooms have entries",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, entries: func(ctx context.Context, room string, p parley.Page) ([]*parley.Entry, error) {
				entries, err := s.Entries(ctx, room, p)
				if err == nil && len(entries) == 0 {
					entries = []*parley.Entry{{Room: room, Seq: 1}}
				}
				return entries, err
			}}
		},
		caughtBy: []string{"EntriesEmptyRoom"},
	},
	{
		name: "ping fails",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, ping: func(context.Context) error { return errBroken }}
		},
		caughtBy: []string{"Ping"},
	},
	{
		name: "close forgets everything",
		newDB: func() OpenFunc {
			return func(ctx context.Context) (parley.Store, error) { return newMemDB().open()(ctx) }
		},
		caughtBy: []string{"Reopen", "CloseWhileAppending"},
	},
	{
		name: "writes after close are kept",
		wrap: func(s parley.Store) broken {
			// Close leaves s open. Afterwards, writes are made but
			// report an error, and reads just fail.
			var closed atomic.Bool
			fail := func(err error) error {
				if closed.Load() {
					return errBroken
				}
				return err
			}
			return broken{
				Store: s,
				ensureRoom: func(ctx context.Context, name string) (*parley.Room, error) {
					r, err := s.EnsureRoom(ctx, name)
					return r, fail(err)
				},
				append: func(ctx context.Context, e *parley.Entry) (bool, error) {
					dup, err := s.Append(ctx, e)
					return dup, fail(err)
				},
				join: func(ctx context.Context, room, nick string) (*parley.Entry, error) {
					e, err := s.Join(ctx, room, nick)
					return e, fail(err)
				},
				room: func(ctx context.Context, name string) (*parley.Room, error) {
					if closed.Load() {
						return nil, errBroken
					}
					return s.Room(ctx, name)
				},
				rooms: func(ctx context.Context, after string, limit int) ([]*parley.Room, error) {
					if closed.Load() {
						return nil, errBroken
					}
					return s.Rooms(ctx, after, limit)
				},
				members: func(ctx context.Context) ([]parley.Member, error) {
					if closed.Load() {
						return nil, errBroken
					}
					return s.Members(ctx)
				},
				entries: func(ctx context.Context, room string, p parley.Page) ([]*parley.Entry, error) {
					if closed.Load() {
						return nil, errBroken
					}
					return s.Entries(ctx, room, p)
				},
				ping: func(ctx context.Context) error {
					if closed.Load() {
						return errBroken
					}
					return s.Ping(ctx)
				},
				leave: func(ctx context.Context, room, nick string) (*parley.Entry, error) {
					if closed.Load() {
						return nil, errBroken
					}
					return s.Leave(ctx, room, nick)
				},
				close: func() error {
					closed.Store(true)
					return nil
				},
			}
		},
		caughtBy: []string{"Closed"},
	},
	{
		name: "close fails",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, close: func() error { s.Close(); return errBroken }}
		},
		caughtBy: []string{"Reopen", "Closed", "CloseWhileAppending"},
	},
	{
		name: "close does nothing",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, close: func() error { return nil }}
		},
		caughtBy: []string{"Closed"},
	},
	{
		name: "rooms ignore the page",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, rooms: func(ctx context.Context, after string, limit int) ([]*parley.Room, error) {
				return s.Rooms(ctx, "", parley.MaxPageSize)
			}}
		},
		caughtBy: []string{"RoomsPaged"},
	},
	{
		name: "sessions never expire",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, createSession: func(ctx context.Context, nick string, _ time.Duration) (string, error) {
				return s.CreateSession(ctx, nick, time.Hour)
			}}
		},
		caughtBy: []string{"SessionExpiry"},
	},
	{
		name: "extending a session does nothing",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, extendSession: func(ctx context.Context, token string, _ time.Duration) error {
				_, err := s.Session(ctx, token)
				return err
			}}
		},
		caughtBy: []string{"SessionExpiry"},
	},
	{
		name: "ending a session does nothing",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, endSession: func(context.Context, string) error { return nil }}
		},
		caughtBy: []string{"SessionEnd", "SessionReopen"},
	},
	{
		name: "any token is a session",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, session: func(ctx context.Context, token string) (*parley.Session, error) {
				if got, err := s.Session(ctx, token); err == nil {
					return got, nil
				}
				return &parley.Session{Nick: "ana", CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}, nil
			}}
		},
		caughtBy: []string{"Session", "SessionEnd", "SessionExpiry", "SessionReopen"},
	},
	{
		name: "sessions are forgotten on close",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, session: func(ctx context.Context, token string) (*parley.Session, error) {
				return nil, parley.ErrInvalidSession()
			}}
		},
		caughtBy: []string{"Session", "SessionReopen", "SessionConcurrent"},
	},
	{
		name:     "guests may take an account's name",
		newDB:    bugged(func(db *memDB) { db.bugGuestsIgnoreAccounts = true }),
		caughtBy: []string{"AccountNamespace", "AccountUpdate"},
	},
	{
		name:     "names are unique by case only",
		newDB:    bugged(func(db *memDB) { db.bugCaseOnly = true }),
		caughtBy: []string{"Account", "AccountConcurrent"},
	},
	{
		name:     "anyone may end a session",
		newDB:    bugged(func(db *memDB) { db.bugEndAnySession = true }),
		caughtBy: []string{"AccountSessions"},
	},
	{
		name:     "a new password ends no session",
		newDB:    bugged(func(db *memDB) { db.bugKeepSessions = true }),
		caughtBy: []string{"AccountUpdate"},
	},
	{
		name:     "anyone edits and deletes any message",
		newDB:    bugged(func(db *memDB) { db.bugAnyoneEdits = true }),
		caughtBy: []string{"AmendErrors"},
	},
	{
		name:     "admins cannot delete others' messages",
		newDB:    bugged(func(db *memDB) { db.bugNoAdminDelete = true }),
		caughtBy: []string{"Amend", "AmendDuplicate"},
	},
	{
		name:     "deleted messages can be edited and deleted again",
		newDB:    bugged(func(db *memDB) { db.bugEditDeleted = true }),
		caughtBy: []string{"AmendErrors", "AmendConcurrent"},
	},
	{
		name:     "deleted messages keep their text",
		newDB:    bugged(func(db *memDB) { db.bugKeepDeletedText = true }),
		caughtBy: []string{"Amend", "AmendConcurrent"},
	},
	{
		name:     "messages keep their text after an edit",
		newDB:    bugged(func(db *memDB) { db.bugEditsStayOld = true }),
		caughtBy: []string{"Amend"},
	},
	{
		name: "amendments are not retried",
		wrap: func(s parley.Store) broken {
			var n atomic.Int64
			return broken{Store: s, amend: func(ctx context.Context, e *parley.Entry, admin bool) (bool, error) {
				e.ClientID = fmt.Sprintf("%s-%d", e.ClientID, n.Add(1))
				return s.Amend(ctx, e, admin)
			}}
		},
		caughtBy: []string{"AmendDuplicate"},
	},
	{
		name: "amendments are refused with the wrong kind of error",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, amend: func(ctx context.Context, e *parley.Entry, admin bool) (bool, error) {
				dup, err := s.Amend(ctx, e, admin)
				if err != nil {
					err = parley.Errorf(parley.Invalid, "%v", err)
				}
				return dup, err
			}}
		},
		caughtBy: []string{"AmendErrors", "AmendConcurrent"},
	},
	{
		name: "pages say nothing of edits and deletions",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, entries: func(ctx context.Context, room string, p parley.Page) ([]*parley.Entry, error) {
				entries, err := s.Entries(ctx, room, p)
				for _, e := range entries {
					e.Edited, e.Deleted = 0, 0
				}
				return entries, err
			}}
		},
		caughtBy: []string{"Amend", "AmendConcurrent"},
	},
	{
		name:     "deactivated accounts sign in",
		newDB:    bugged(func(db *memDB) { db.bugDeactivatedSignIn = true }),
		caughtBy: []string{"AccountUpdate"},
	},
	{
		name:     "read markers move back",
		newDB:    bugged(func(db *memDB) { db.bugMarkersMoveBack = true }),
		caughtBy: []string{"ReadMarkers"},
	},
	{
		name:     "read markers are the name's as written",
		newDB:    bugged(func(db *memDB) { db.bugMarkersByName = true }),
		caughtBy: []string{"ReadMarkers"},
	},
	{
		name:     "read markers go beyond the log",
		newDB:    bugged(func(db *memDB) { db.bugMarkBeyondLog = true }),
		caughtBy: []string{"ReadMarkerErrors"},
	},
	{
		name: "read markers are forgotten",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, markRead: func(ctx context.Context, room, nick string, seq int64) error {
				_, err := s.Room(ctx, room)
				return err
			}}
		},
		caughtBy: []string{"ReadMarkers", "ReadMarkerConcurrent"},
	},
	{
		name: "read markers of one room are every room's",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, readMarker: func(ctx context.Context, room, nick string) (int64, error) {
				markers, err := s.ReadMarkers(ctx, nick, "", parley.MaxPageSize)
				var top int64
				for _, m := range markers {
					top = max(top, m.Seq)
				}
				return top, err
			}}
		},
		caughtBy: []string{"ReadMarkers"},
	},
	{
		name: "read markers ignore the page",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, readMarkers: func(ctx context.Context, nick, after string, limit int) ([]parley.ReadMarker, error) {
				if err := parley.ValidateRoomPage(limit); err != nil {
					return nil, err
				}
				return s.ReadMarkers(ctx, nick, "", parley.MaxPageSize)
			}}
		},
		caughtBy: []string{"ReadMarkers"},
	},
	{
		name: "read markers come unsorted",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, readMarkers: func(ctx context.Context, nick, after string, limit int) ([]parley.ReadMarker, error) {
				markers, err := s.ReadMarkers(ctx, nick, after, limit)
				slices.Reverse(markers)
				return markers, err
			}}
		},
		caughtBy: []string{"ReadMarkers"},
	},
	{
		name: "no read markers is nil",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, readMarkers: func(ctx context.Context, nick, after string, limit int) ([]parley.ReadMarker, error) {
				markers, err := s.ReadMarkers(ctx, nick, after, limit)
				if len(markers) == 0 {
					markers = nil
				}
				return markers, err
			}}
		},
		caughtBy: []string{"ReadMarkers"},
	},
	{
		name: "bad read markers are kept",
		wrap: func(s parley.Store) broken {
			return broken{Store: s, markRead: func(ctx context.Context, room, nick string, seq int64) error {
				err := s.MarkRead(ctx, room, nick, seq)
				if parley.KindOf(err) == parley.Invalid && seq > 0 {
					if r, rerr := s.Room(ctx, room); rerr == nil {
						s.MarkRead(ctx, room, "ana", r.LastSeq)
					}
				}
				return err
			}}
		},
		caughtBy: []string{"ReadMarkerErrors"},
	},
}

// bugged returns a newDB that opens a memDB with the bug that set sets.
func bugged(set func(db *memDB)) func() OpenFunc {
	return func() OpenFunc {
		db := newMemDB()
		set(db)
		return db.open()
	}
}

// wrapOpen returns an OpenFunc whose stores wrap open's.
func wrapOpen(open OpenFunc, wrap func(parley.Store) broken) OpenFunc {
	return func(ctx context.Context) (parley.Store, error) {
		s, err := open(ctx)
		if err != nil {
			return nil, err
		}
		return wrap(s), nil
	}
}

// broken is a store whose methods can be replaced one by one.
type broken struct {
	parley.Store
	ensureRoom func(ctx context.Context, name string) (*parley.Room, error)
	room       func(ctx context.Context, name string) (*parley.Room, error)
	rooms      func(ctx context.Context, after string, limit int) ([]*parley.Room, error)
	append     func(ctx context.Context, e *parley.Entry) (bool, error)
	amend      func(ctx context.Context, e *parley.Entry, admin bool) (bool, error)
	join       func(ctx context.Context, room, nick string) (*parley.Entry, error)
	leave      func(ctx context.Context, room, nick string) (*parley.Entry, error)
	members    func(ctx context.Context) ([]parley.Member, error)
	entries    func(ctx context.Context, room string, p parley.Page) ([]*parley.Entry, error)
	ping       func(ctx context.Context) error
	close      func() error

	createSession func(ctx context.Context, nick string, ttl time.Duration) (string, error)
	session       func(ctx context.Context, token string) (*parley.Session, error)
	extendSession func(ctx context.Context, token string, ttl time.Duration) error
	endSession    func(ctx context.Context, token string) error

	markRead    func(ctx context.Context, room, nick string, seq int64) error
	readMarker  func(ctx context.Context, room, nick string) (int64, error)
	readMarkers func(ctx context.Context, nick, after string, limit int) ([]parley.ReadMarker, error)
}

func (b broken) EnsureRoom(ctx context.Context, name string) (*parley.Room, error) {
	if b.ensureRoom != nil {
		return b.ensureRoom(ctx, name)
	}
	return b.Store.EnsureRoom(ctx, name)
}

func (b broken) Room(ctx context.Context, name string) (*parley.Room, error) {
	if b.room != nil {
		return b.room(ctx, name)
	}
	return b.Store.Room(ctx, name)
}

func (b broken) Rooms(ctx context.Context, after string, limit int) ([]*parley.Room, error) {
	if b.rooms != nil {
		return b.rooms(ctx, after, limit)
	}
	return b.Store.Rooms(ctx, after, limit)
}

func (b broken) Append(ctx context.Context, e *parley.Entry) (bool, error) {
	if b.append != nil {
		return b.append(ctx, e)
	}
	return b.Store.Append(ctx, e)
}

func (b broken) Amend(ctx context.Context, e *parley.Entry, admin bool) (bool, error) {
	if b.amend != nil {
		return b.amend(ctx, e, admin)
	}
	return b.Store.Amend(ctx, e, admin)
}

func (b broken) Join(ctx context.Context, room, nick string) (*parley.Entry, error) {
	if b.join != nil {
		return b.join(ctx, room, nick)
	}
	return b.Store.Join(ctx, room, nick)
}

func (b broken) Leave(ctx context.Context, room, nick string) (*parley.Entry, error) {
	if b.leave != nil {
		return b.leave(ctx, room, nick)
	}
	return b.Store.Leave(ctx, room, nick)
}

func (b broken) Members(ctx context.Context) ([]parley.Member, error) {
	if b.members != nil {
		return b.members(ctx)
	}
	return b.Store.Members(ctx)
}

func (b broken) Entries(ctx context.Context, room string, p parley.Page) ([]*parley.Entry, error) {
	if b.entries != nil {
		return b.entries(ctx, room, p)
	}
	return b.Store.Entries(ctx, room, p)
}

func (b broken) Ping(ctx context.Context) error {
	if b.ping != nil {
		return b.ping(ctx)
	}
	return b.Store.Ping(ctx)
}

func (b broken) Close() error {
	if b.close != nil {
		return b.close()
	}
	return b.Store.Close()
}

func (b broken) CreateSession(ctx context.Context, nick string, ttl time.Duration) (string, error) {
	if b.createSession != nil {
		return b.createSession(ctx, nick, ttl)
	}
	return b.Store.CreateSession(ctx, nick, ttl)
}

func (b broken) Session(ctx context.Context, token string) (*parley.Session, error) {
	if b.session != nil {
		return b.session(ctx, token)
	}
	return b.Store.Session(ctx, token)
}

func (b broken) ExtendSession(ctx context.Context, token string, ttl time.Duration) error {
	if b.extendSession != nil {
		return b.extendSession(ctx, token, ttl)
	}
	return b.Store.ExtendSession(ctx, token, ttl)
}

func (b broken) EndSession(ctx context.Context, token string) error {
	if b.endSession != nil {
		return b.endSession(ctx, token)
	}
	return b.Store.EndSession(ctx, token)
}

func (b broken) MarkRead(ctx context.Context, room, nick string, seq int64) error {
	if b.markRead != nil {
		return b.markRead(ctx, room, nick, seq)
	}
	return b.Store.MarkRead(ctx, room, nick, seq)
}

func (b broken) ReadMarker(ctx context.Context, room, nick string) (int64, error) {
	if b.readMarker != nil {
		return b.readMarker(ctx, room, nick)
	}
	return b.Store.ReadMarker(ctx, room, nick)
}

func (b broken) ReadMarkers(ctx context.Context, nick, after string, limit int) ([]parley.ReadMarker, error) {
	if b.readMarkers != nil {
		return b.readMarkers(ctx, nick, after, limit)
	}
	return b.Store.ReadMarkers(ctx, nick, after, limit)
}
