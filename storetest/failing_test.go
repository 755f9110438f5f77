package storetest

import (
	"context"
	"time"

	"github.com/parley-chat/parley"
)

// failing is a store whose newer methods, of accounts, rooms and read
// markers, all fail, for the mutant that checks that every check of them
// notices.
type failing struct{ parley.Store }

func (failing) CreateAccount(context.Context, *parley.Account) error { return errBroken }
func (failing) CreateAccountSession(context.Context, string, parley.SessionKind, string, time.Duration) (string, error) {
	return "", errBroken
}
func (failing) CreateRoom(context.Context, *parley.Room, []string) error { return errBroken }
func (failing) MarkRead(context.Context, string, string, int64) error    { return errBroken }
func (failing) Amend(context.Context, *parley.Entry, bool) (bool, error) {
	return false, errBroken
}
func (failing) HasAccounts(context.Context) (bool, error) { return false, errBroken }
func (failing) DeleteRoom(context.Context, string) error  { return errBroken }
func (failing) UpdateRoom(context.Context, string, parley.RoomUpdate) error {
	return errBroken
}

// forgetful is a store that forgets accounts' changes and sessions: what
// it is told of them answers nil, and changes nothing.
type forgetful struct{ parley.Store }

func (forgetful) UpdateAccount(context.Context, string, parley.AccountUpdate) ([]string, error) {
	return nil, nil
}
func (forgetful) EndAccountSession(context.Context, string, string) error { return nil }
func (forgetful) AccountSessions(context.Context, string) ([]*parley.Session, error) {
	return nil, nil
}
func (forgetful) SetRole(context.Context, string, string, parley.Role) error  { return nil }
func (forgetful) UpdateRoom(context.Context, string, parley.RoomUpdate) error { return nil }
func (forgetful) RoomMembers(context.Context, string) ([]parley.RoomMember, error) {
	return nil, nil
}
func (forgetful) Role(context.Context, string, string) (parley.Role, error) { return "", nil }

// openFailing opens a correct store, with the failing methods of failing.
func openFailing() OpenFunc {
	open := newMemDB().open()
	return func(ctx context.Context) (parley.Store, error) {
		s, err := open(ctx)
		return failing{s}, err
	}
}

// roomBugs are the mutants of accounts and of private and direct rooms.
var roomBugs = []mutant{
	{
		name: "every open finds an empty database",
		newDB: func() OpenFunc {
			return func(ctx context.Context) (parley.Store, error) { return newMemDB().open()(ctx) }
		},
		caughtBy: []string{"Reopen", "SessionReopen", "AccountReopen"},
	},
	{
		name:     "rooms take people without accounts",
		newDB:    bugged(func(db *memDB) { db.bugAnyoneInRooms = true }),
		caughtBy: []string{"DirectRoom"},
	},
	{
		name:     "a guest's nickname is anyone's",
		newDB:    bugged(func(db *memDB) { db.bugNicksShared = true }),
		caughtBy: []string{"SessionNicknameTaken", "SessionConcurrent"},
	},
	{
		name: "changes to accounts and rooms are forgotten",
		newDB: func() OpenFunc {
			open := newMemDB().open()
			return func(ctx context.Context) (parley.Store, error) {
				s, err := open(ctx)
				return forgetful{s}, err
			}
		},
		caughtBy: []string{"AccountSessions", "AccountUpdate", "PrivateRoom", "DirectRoom"},
	},
	{
		name:  "the newer methods fail",
		newDB: openFailing,
		caughtBy: []string{"Account", "AccountNamespace", "AccountSessions", "AccountUpdate", "AccountConcurrent", "AccountReopen",
			"PrivateRoom", "DirectRoom", "Amend", "AmendErrors", "AmendDuplicate", "ReadMarkers", "ReadMarkerErrors",
			"Archive", "DeleteRoom"},
	},
	{
		name:     "everyone sees every room",
		newDB:    bugged(func(db *memDB) { db.bugEveryoneSees = true }),
		caughtBy: []string{"PrivateRoom"},
	},
	{
		name:     "a join makes a room of a server-made name",
		newDB:    bugged(func(db *memDB) { db.bugEnsureServerMade = true }),
		caughtBy: []string{"PrivateRoom"},
	},
	{
		name:     "the owner can be removed",
		newDB:    bugged(func(db *memDB) { db.bugOwnerRemovable = true }),
		caughtBy: []string{"PrivateRoom"},
	},
	{
		name:     "direct rooms are made twice",
		newDB:    bugged(func(db *memDB) { db.bugRoomsTwice = true }),
		caughtBy: []string{"PrivateRoom", "DirectRoom"},
	},
}

func init() { mutants = append(mutants, roomBugs...) }
