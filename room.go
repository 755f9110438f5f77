package parley

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxRoomNameLen is the longest room name, in characters.
const MaxRoomNameLen = 64

// DefaultRoom is the room that always exists and that clients land in.
const DefaultRoom = "general"

// Room is a named conversation that users join to exchange messages.
// A room is identified by its name, which is case-sensitive.
//
// A public room is open to everyone who may enter the server: joining it
// by name creates it. A private room is open to its members only, whom its
// owner and admins add and remove; a direct room is a conversation of two
// or a few people, fixed when it is made. To anyone else, a private or
// direct room does not exist. Their names are made by the server
// (NewPrivateRoomName, DirectRoomName) and start with a character that a
// public room's name cannot start with, so that nobody can make a public
// room under such a name, and a join of one that one may not see answers
// as a join of one that does not exist: not_found.
type Room struct {
	Name  string   `json:"name"`
	Kind  RoomKind `json:"kind"`
	Title string   `json:"title,omitempty"` // a private room's name for people
	Topic string   `json:"topic,omitempty"`
	// Description says more than the topic: what the room is for, its
	// rules; it may hold line breaks.
	Description string `json:"description,omitempty"`
	// Owner is the name of the person who made a private room, who may
	// change it and its members; empty for other rooms.
	Owner     string    `json:"owner,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	// LastSeq is the sequence number of the newest entry of the room's log,
	// 0 when the log is empty.
	LastSeq int64 `json:"lastSeq"`
	// ArchivedAt is when the room was archived, nil while it is not. An
	// archived room can be read but takes no message, edit or deletion
	// (ErrArchived).
	ArchivedAt *time.Time `json:"archivedAt,omitempty"`
}

// ErrArchived is the answer for a message, an edit or a deletion sent to
// the archived room named room: it stores nothing.
func ErrArchived(room string) error {
	return CodeErrorf(Forbidden, CodeArchived, "The room %q is archived: it can be read, but takes no new messages, edits or deletions.", room)
}

// ErrDefaultRoom is the answer for archiving or deleting DefaultRoom,
// which always exists and takes messages.
func ErrDefaultRoom() error {
	return CodeErrorf(Forbidden, CodeDefaultRoom, "The room %q cannot be archived or deleted.", DefaultRoom)
}

// RoomKind says who may see a room.
type RoomKind string

const (
	RoomPublic  RoomKind = "public"
	RoomPrivate RoomKind = "private"
	RoomDirect  RoomKind = "direct"
)

// Prefixes of the names the server makes for private and direct rooms,
// which a public room's name cannot start with.
const (
	privatePrefix = "~"
	directPrefix  = "@"
)

// MaxDirectMembers is how many people a direct room holds at most.
const MaxDirectMembers = 8

// Limits of a room's texts, in characters.
const (
	MaxRoomTitleLen   = 64
	MaxTopicLen       = 256
	MaxDescriptionLen = 1000
)

// Role is what a person is in a private or direct room.
type Role string

const (
	RoleOwner  Role = "owner"
	RoleMember Role = "member"
)

// RoomMember is a person who may see a private or direct room.
type RoomMember struct {
	Room string `json:"-"`
	Name string `json:"name"`
	Role Role   `json:"role"`
}

// ValidateNew reports whether r can be made by Store.CreateRoom: a private
// room with a name of NewPrivateRoomName's and an owner, or a direct room
// with a name of DirectRoomName's, and valid texts.
func (r *Room) ValidateNew() error {
	if err := ValidateRoomName(r.Name); err != nil {
		return err
	}
	switch {
	case r.Kind == RoomPrivate && (!strings.HasPrefix(r.Name, privatePrefix) || r.Owner == ""):
		return Errorf(Invalid, "A private room needs a name made by NewPrivateRoomName and an owner.")
	case r.Kind == RoomDirect && !strings.HasPrefix(r.Name, directPrefix):
		return Errorf(Invalid, "A direct room needs a name made by DirectRoomName.")
	case r.Kind != RoomPrivate && r.Kind != RoomDirect:
		return Errorf(Invalid, "CreateRoom makes private and direct rooms only.")
	}
	return RoomUpdate{Title: &r.Title, Topic: &r.Topic, Description: &r.Description}.Validate()
}

// ErrRoomExists is the answer for a room made under a name taken.
func ErrRoomExists(name string) error {
	return CodeErrorf(Conflict, CodeRoomExists, "The room %q exists.", name)
}

// ErrNoRoom is the answer for a room that does not exist, and for one that
// the person who asks may not see: the two answer alike.
func ErrNoRoom(name string) error {
	return Errorf(NotFound, "There is no room named %q.", name)
}

// ServerMade reports whether name is of the kind of names the server makes
// for private and direct rooms, which no join creates.
func ServerMade(name string) bool {
	return strings.HasPrefix(name, privatePrefix) || strings.HasPrefix(name, directPrefix)
}

// ValidatePublicRoomName reports whether name can name a new public room:
// a valid room name that does not look like a server-made one.
func ValidatePublicRoomName(name string) error {
	if err := ValidateRoomName(name); err != nil {
		return err
	}
	if ServerMade(name) {
		return CodeErrorf(Invalid, CodeInvalidRoom, "A room name must not start with %q or %q.", privatePrefix, directPrefix)
	}
	return nil
}

// NewPrivateRoomName returns a new name for a private room: "~" and 16
// random characters.
func NewPrivateRoomName() string {
	b := make([]byte, 10)
	rand.Read(b) // never fails; see crypto/rand
	return privatePrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// DirectRoomName returns the name of the direct room of the people named
// names (two or more, at most MaxDirectMembers, in any order and case): "@"
// and a hash of their NickKeys, so that the same people always meet in the
// same room.
func DirectRoomName(names []string) (string, error) {
	keys := make([]string, 0, len(names))
	for _, n := range names {
		if err := ValidateNick(n); err != nil {
			return "", err
		}
		if k := NickKey(n); !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	switch {
	case len(keys) < 2:
		return "", Errorf(Invalid, "A direct conversation needs someone besides you.")
	case len(keys) > MaxDirectMembers:
		return "", Errorf(Invalid, "A direct conversation holds at most %d people.", MaxDirectMembers)
	}
	slices.Sort(keys)
	sum := sha256.Sum256([]byte(strings.Join(keys, "\n")))
	return directPrefix + hex.EncodeToString(sum[:12]), nil
}

// ValidateRoomText reports whether a room's title or topic, text, may be
// shown: up to max characters by the rules of display names.
func ValidateRoomText(what, text string, max int) error {
	switch {
	case !utf8.ValidString(text):
		return Errorf(Invalid, "The %s is not valid UTF-8.", what)
	case utf8.RuneCountInString(text) > max:
		return Errorf(Invalid, "The %s is longer than %d characters.", what, max)
	case strings.TrimSpace(text) != text:
		return Errorf(Invalid, "The %s must not start or end with a space.", what)
	case !printable(text):
		return Errorf(Invalid, "The %s may contain only printable characters.", what)
	}
	return nil
}

// RoomUpdate says what UpdateRoom changes: each field that is not nil.
type RoomUpdate struct {
	Title       *string
	Topic       *string
	Description *string
	// Archived true archives the room (keeping the time it was first
	// archived, when it is already); false brings it back.
	Archived *bool
}

// Validate reports whether u can be applied.
func (u RoomUpdate) Validate() error {
	if u.Title != nil {
		if err := ValidateRoomText("title", *u.Title, MaxRoomTitleLen); err != nil {
			return err
		}
	}
	if u.Topic != nil {
		if err := ValidateRoomText("topic", *u.Topic, MaxTopicLen); err != nil {
			return err
		}
	}
	if u.Description != nil {
		for _, line := range strings.Split(*u.Description, "\n") {
			if err := ValidateRoomText("description", strings.TrimSpace(line), MaxDescriptionLen); err != nil {
				return err
			}
		}
		if n := utf8.RuneCountInString(*u.Description); n > MaxDescriptionLen {
			return Errorf(Invalid, "The description is longer than %d characters.", MaxDescriptionLen)
		}
	}
	return nil
}

// ValidateRoomName reports whether name can name a room: 1 to
// MaxRoomNameLen printable characters, not starting or ending with a space.
func ValidateRoomName(name string) error {
	switch {
	case name == "":
		return CodeErrorf(Invalid, CodeInvalidRoom, "Room name is required.")
	case !utf8.ValidString(name):
		return CodeErrorf(Invalid, CodeInvalidRoom, "Room name is not valid UTF-8.")
	case utf8.RuneCountInString(name) > MaxRoomNameLen:
		return CodeErrorf(Invalid, CodeInvalidRoom, "Room name is longer than %d characters.", MaxRoomNameLen)
	case strings.TrimSpace(name) != name:
		return CodeErrorf(Invalid, CodeInvalidRoom, "Room name must not start or end with a space.")
	case !printable(name):
		return CodeErrorf(Invalid, CodeInvalidRoom, "Room name may contain only printable characters.")
	}
	return nil
}
