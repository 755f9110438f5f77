package parley

import (
	"context"
	"strings"
	"time"
)

// Store keeps rooms, their logs, their members and people's sessions durably. Implementations
// (packages sqlite and postgres) must pass the conformance suite in
// package storetest, and must be safe for concurrent use.
//
// Methods return *Error values of kind Invalid or NotFound where stated; any
// other error is Internal.
type Store interface {
	// EnsureRoom returns the room named name, creating it, public, with an
	// empty log when it does not exist. It returns Invalid for a bad name,
	// and NotFound for a server-made name (ServerMade) that no room has:
	// only CreateRoom makes those.
	EnsureRoom(ctx context.Context, name string) (*Room, error)

	// CreateRoom stores the new private or direct room r, named by the
	// server (NewPrivateRoomName, DirectRoomName), with the accounts that
	// may see it: members, by name, each a RoleMember, and a private
	// room's r.Owner, a RoleOwner. It sets r.CreatedAt, and the names in r
	// and members to the accounts' own. It returns Invalid for a bad room,
	// NotFound when a name has no active account, and Conflict
	// (room_exists) when the room exists: for a direct room, the room of
	// the same people.
	CreateRoom(ctx context.Context, r *Room, members []string) error

	// Role returns what the person named name is in room: RoleOwner,
	// RoleMember, or "" when they may not see it by membership (as in a
	// public room). It returns NotFound when there is no room.
	Role(ctx context.Context, room, name string) (Role, error)

	// SetRole makes the account named name a RoleMember of the private
	// room room, or, with role "", removes them. It returns NotFound for
	// no room or no active account (when adding), and Invalid for a room
	// that is not private, another role, or the owner.
	SetRole(ctx context.Context, room, name string, role Role) error

	// RoomMembers returns who may see the private or direct room room,
	// ordered by NickKey; none for a public room. NotFound for no room.
	RoomMembers(ctx context.Context, room string) ([]RoomMember, error)

	// VisibleRooms returns a page of the rooms that the person named
	// viewer may see, ordered by name as Rooms orders them: the public
	// rooms, and the private and direct rooms viewer is a member of.
	VisibleRooms(ctx context.Context, viewer, after string, limit int) ([]*Room, error)

	// UpdateRoom changes the title or topic of room, or archives it or
	// brings it back, as u says. It returns NotFound for no room, Invalid
	// for a bad update, and Forbidden (default_room) for archiving
	// DefaultRoom; each having changed nothing.
	UpdateRoom(ctx context.Context, room string, u RoomUpdate) error

	// DeleteRoom removes room, its log, its members, who may see it and
	// the read markers of it, in one transaction: then the room does not
	// exist, and its name may name a new room, whose log starts at 1. It
	// returns NotFound for no room and Forbidden (default_room) for
	// DefaultRoom.
	DeleteRoom(ctx context.Context, room string) error

	// Room returns the room named name, or NotFound.
	Room(ctx context.Context, name string) (*Room, error)

	// Rooms returns a page of the rooms, ordered by name (byte-wise, as Go
	// compares strings): those whose names come after after ("" for the
	// first page), at most limit of them. It returns Invalid for a limit
	// outside 1 to MaxPageSize.
	Rooms(ctx context.Context, after string, limit int) ([]*Room, error)

	// Append durably stores the message e in its room's log, which must
	// exist (NotFound otherwise), and sets e.Seq and e.At. It returns only
	// after the entry is committed. When the room already holds an entry
	// from e.From with e.ClientID (a message, an edit or a deletion: they
	// share client ids), Append stores nothing, sets *e to the stored
	// entry as Entries would return it, and reports dup true.
	// Implementations may commit several concurrent appends together.
	// It returns Forbidden (archived) for an archived room, having stored
	// nothing, unless the entry is such a retry.
	Append(ctx context.Context, e *Entry) (dup bool, err error)

	// Amend durably stores e, an edit (KindEdit) or a deletion
	// (KindDelete) by e.From of the message numbered e.Target in e's
	// room, as the next entry of the room's log, and sets e.Seq and e.At,
	// as Append does. admin says whether e.From's session is an
	// administrator's (Actor). In the same transaction, an edit makes its
	// text the message's, with Edited set to the edit's number; a deletion
	// removes the text of the message and of its edits, whose Deleted it
	// sets to the deletion's number. Entries returns them so from then on.
	//
	// It returns Invalid for an entry that e.Validate refuses (or that is
	// not an edit or a deletion), NotFound for an unknown room and
	// NotFound (no_message) when the target is not a message of the room,
	// Forbidden (not_yours) when MayEdit or MayDelete refuses, and
	// Conflict (already_deleted) when the message was deleted, and
	// Forbidden (archived) when the room is archived; each having stored
	// nothing. A retry is checked before all of those: when the
	// room already holds an entry from e.From with e.ClientID, Amend
	// stores nothing, sets *e to the stored entry, and reports dup true.
	Amend(ctx context.Context, e *Entry, admin bool) (dup bool, err error)

	// Join makes nick a member of room, appending and returning a join entry.
	// When nick is a member already it stores nothing and returns nil, nil.
	Join(ctx context.Context, room, nick string) (*Entry, error)

	// Leave ends nick's membership of room, appending and returning a leave
	// entry. When nick is not a member it stores nothing and returns nil, nil.
	Leave(ctx context.Context, room, nick string) (*Entry, error)

	// AddMember makes nick a member of room, as Join does, but appends no
	// entry: for rooms too large to tell everyone of every arrival. It
	// reports whether nick was not a member before.
	AddMember(ctx context.Context, room, nick string) (added bool, err error)

	// RemoveMember ends nick's membership of room, as Leave does, but
	// appends no entry. It reports whether nick was a member.
	RemoveMember(ctx context.Context, room, nick string) (removed bool, err error)

	// Members returns the members of every room.
	Members(ctx context.Context) ([]Member, error)

	// Entries returns the part of room's log that p selects, in ascending
	// order of sequence number. It returns NotFound for an unknown room and
	// Invalid for a bad page.
	Entries(ctx context.Context, room string, p Page) ([]*Entry, error)

	// CreateSession starts a guest's session for nick that lasts ttl, and returns
	// its token, which the store keeps only hashed (HashToken). It returns
	// Invalid for a bad nickname, and Conflict (nickname_taken) when an
	// account, or a guest's session that has not expired, holds a name with
	// the same NickKey; an expired one is ended to make room.
	CreateSession(ctx context.Context, nick string, ttl time.Duration) (token string, err error)

	// Session returns the session of token, with Admin set from its
	// account. It returns Unauthenticated (invalid_session) when the store
	// has no such session, it has expired, or it is of an account that is
	// deactivated.
	Session(ctx context.Context, token string) (*Session, error)

	// ExtendSession makes token's session last ttl from now. It returns
	// Unauthenticated (invalid_session) as Session does.
	ExtendSession(ctx context.Context, token string, ttl time.Duration) error

	// EndSession ends token's session at once: its nickname is free for
	// anyone. Ending a session the store does not have does nothing.
	EndSession(ctx context.Context, token string) error

	// CreateAccount stores the new account a (Account.Validate) and sets
	// a.CreatedAt. It returns Invalid for a bad account, and Conflict
	// (nickname_taken) when an account, or a guest's session that has not
	// expired, holds a name with the same NickKey.
	CreateAccount(ctx context.Context, a *Account) error

	// Account returns the account whose name has name's NickKey, or
	// NotFound.
	Account(ctx context.Context, name string) (*Account, error)

	// HasAccounts reports whether the store holds any account, active or
	// not: a server without one lets its first visitor make the first
	// admin.
	HasAccounts(ctx context.Context) (bool, error)

	// UpdateAccount changes the account named name (NotFound if none):
	// what u sets, which must be valid (AccountUpdate.Validate; Invalid
	// otherwise). Deactivating an account deactivated already keeps the
	// time it was first deactivated. Changing the password or deactivating the account ends
	// its sessions but the one whose ID is u.Keep, and returns the IDs of
	// the sessions it ended, whose connections the caller closes.
	UpdateAccount(ctx context.Context, name string, u AccountUpdate) (ended []string, err error)

	// CreateAccountSession starts a session of kind SessionAccount or
	// SessionToken, labelled label, for the active account named name,
	// that lasts ttl, and returns its token. It returns NotFound when there
	// is no such account or it is deactivated, and Invalid for another
	// kind.
	CreateAccountSession(ctx context.Context, name string, kind SessionKind, label string, ttl time.Duration) (token string, err error)

	// AccountSessions returns the sessions of the account named name that
	// have not expired, the newest first (those made in one millisecond
	// in any order); their Admin is not set.
	AccountSessions(ctx context.Context, name string) ([]*Session, error)

	// EndAccountSession ends the session whose ID is id if it is one of
	// the account name's, and returns NotFound otherwise.
	EndAccountSession(ctx context.Context, name, id string) error

	// MarkRead records that the person called nick has read room up to
	// and including the entry seq: their read marker in room becomes seq,
	// unless it is higher already, for a marker never moves back. A
	// person's markers are theirs by NickKey, whatever session, tab or
	// device they read with. It returns Invalid (CodeInvalidSeq) for a
	// negative seq or one beyond the room's last sequence number, Invalid
	// for a bad nickname, and NotFound for an unknown room. A seq of 0
	// changes nothing. Implementations may commit several marks together.
	MarkRead(ctx context.Context, room, nick string, seq int64) error

	// ReadMarker returns the read marker of the person called nick in
	// room: 0 when they have marked none of it read, or there is no such
	// room.
	ReadMarker(ctx context.Context, room, nick string) (int64, error)

	// ReadMarkers returns a page of the read markers of the person called
	// nick, ordered by room name as Rooms orders rooms: those of rooms
	// whose names come after after ("" for the first page), at most limit
	// of them. Rooms they have marked nothing of are left out. It returns
	// Invalid for a limit outside 1 to MaxPageSize.
	ReadMarkers(ctx context.Context, nick, after string, limit int) ([]ReadMarker, error)

	// Ping reports whether the store answers.
	Ping(ctx context.Context) error

	// Close waits for pending appends to commit, then releases the store.
	Close() error
}

// AccountUpdate says what UpdateAccount changes: each field that is not
// nil.
type AccountUpdate struct {
	DisplayName  *string
	PasswordHash *string // a new HashPassword
	Admin        *bool
	Active       *bool  // false deactivates the account, true reactivates it
	Keep         string // the ID of a session to keep when sessions end
}

// Validate reports whether u can be applied: a display name by
// ValidateDisplayName, a password hash of HashPassword's form.
func (u AccountUpdate) Validate() error {
	if u.DisplayName != nil {
		if err := ValidateDisplayName(*u.DisplayName); err != nil {
			return err
		}
	}
	if u.PasswordHash != nil && !strings.HasPrefix(*u.PasswordHash, "$argon2id$") {
		return Errorf(Invalid, "A password must be stored as an argon2id hash.")
	}
	return nil
}

// A ReadMarker says how far a person has read a room: every entry up to
// and including Seq.
type ReadMarker struct {
	Room string `json:"room"`
	Seq  int64  `json:"seq"`
}

// A StoredReadMarker is a read marker as a store keeps it: under the
// NickKey of its person's name. `parley migrate copy` moves markers in
// this form.
type StoredReadMarker struct {
	NickKey string
	Room    string
	Seq     int64
}

// ValidateReadSeq reports whether seq can be a read marker, as far as can
// be told without the room: it must not be negative.
func ValidateReadSeq(seq int64) error {
	if seq < 0 {
		return CodeErrorf(Invalid, CodeInvalidSeq, "A read marker must not be negative.")
	}
	return nil
}

// ErrReadBeyondLog is the error of a read marker seq beyond the last entry
// of room, whose last sequence number is last.
func ErrReadBeyondLog(room string, seq, last int64) error {
	return CodeErrorf(Invalid, CodeInvalidSeq, "Room %q has no entry %d: its last is %d.", room, seq, last)
}

// Member says that Nick is a member of Room.
type Member struct {
	Room string `json:"room"`
	Nick string `json:"nick"`
}
