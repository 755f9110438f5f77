package parley

import (
	"strings"
	"time"
	"unicode/utf8"
)

// MaxTextBytes is the largest message text, in bytes of UTF-8.
const MaxTextBytes = 4096

// MaxClientIDLen is the longest client id, in bytes.
const MaxClientIDLen = 64

// EntryKind says what an entry of a room's log records.
type EntryKind string

const (
	KindMessage EntryKind = "message" // Someone said something.
	KindJoin    EntryKind = "join"    // Someone became a member of the room.
	KindLeave   EntryKind = "leave"   // Someone stopped being a member of the room.
	KindEdit    EntryKind = "edit"    // Someone changed the text of a message.
	KindDelete  EntryKind = "delete"  // Someone deleted a message.
)

// Entry is one item of a room's log: everything a late reader must see to
// reconstruct the room. Every entry has the room's next sequence number,
// assigned by the store in the transaction that stores it.
type Entry struct {
	Room string    `json:"room"`
	Seq  int64     `json:"seq"`
	Kind EntryKind `json:"type"`
	From string    `json:"from"`
	// Text is the text of a message, or the new text of an edit; empty for
	// the other kinds, and for a message or edit that was deleted.
	Text string `json:"text,omitempty"`
	// Target is the sequence number of the message that an edit or a
	// deletion changes; 0 for the other kinds.
	Target int64 `json:"target,omitempty"`
	// Edited is, in a message read from the store, the sequence number of
	// its latest edit, whose text Text is; 0 when it was never edited, and
	// in a message as it is first published.
	Edited int64 `json:"edited,omitempty"`
	// Deleted is, in a message or an edit read from the store, the
	// sequence number of the deletion of the message, which removed its
	// text; 0 while it stands.
	Deleted int64 `json:"deleted,omitempty"`
	// ClientID is the id the sender gave the message, edit or deletion,
	// unique per sender and room across the three kinds, which makes a
	// retried send idempotent.
	ClientID string    `json:"clientId,omitempty"`
	At       time.Time `json:"at"`
}

// Validate reports whether e is a message, an edit or a deletion that may
// be stored. It checks only what can be checked without a database: an
// edit or a deletion names a target, an edit has a text that ValidateText
// accepts, a deletion has none.
func (e *Entry) Validate() error {
	if err := ValidateRoomName(e.Room); err != nil {
		return err
	}
	switch {
	case e.Kind != KindMessage && e.Kind != KindEdit && e.Kind != KindDelete:
		return Errorf(Invalid, "Only messages, edits and deletions can be sent.")
	case e.From == "":
		return Errorf(Invalid, "A message needs a sender.")
	case e.Kind == KindMessage && e.Target != 0:
		return Errorf(Invalid, "A message has no target.")
	case e.Kind != KindMessage && e.Target <= 0:
		return CodeErrorf(Invalid, CodeInvalidTarget, "An edit or a deletion names the sequence number of a message.")
	case e.Kind == KindDelete && e.Text != "":
		return Errorf(Invalid, "A deletion has no text.")
	}
	if err := ValidateClientID(e.ClientID); err != nil {
		return err
	}
	if e.Kind == KindDelete {
		return nil
	}
	return ValidateText(e.Text)
}

// ValidateMessage reports whether e is a message that Append may store.
func (e *Entry) ValidateMessage() error {
	if e.Kind != KindMessage {
		return Errorf(Invalid, "Only a message can be appended; an edit or a deletion amends one.")
	}
	return e.Validate()
}

// ValidateAmendment reports whether e is an edit or a deletion that Amend
// may store.
func (e *Entry) ValidateAmendment() error {
	if e.Kind != KindEdit && e.Kind != KindDelete {
		return Errorf(Invalid, "Only an edit or a deletion amends a message.")
	}
	return e.Validate()
}

// Actor is someone who changes a room's log, as their session shows them.
type Actor struct {
	Nick  string
	Admin bool // their account is an administrator's
}

// MayEdit reports whether by may edit the message m: only its author may.
func MayEdit(by Actor, m *Entry) bool {
	return NickKey(m.From) == NickKey(by.Nick)
}

// MayDelete reports whether by may delete the message m: its author and
// administrators may (and a private room's owner, whom the hub passes as
// an administrator of that room). It is the one place that decides: the stores call
// it, in the transaction that stores the deletion.
func MayDelete(by Actor, m *Entry) bool {
	return by.Admin || MayEdit(by, m)
}

// ErrNotYours is what stores return for an edit or a deletion that its
// author may not make (MayEdit, MayDelete).
func ErrNotYours(e *Entry) error {
	if e.Kind == KindEdit {
		return CodeErrorf(Forbidden, CodeNotYours, "Message %d is someone else's; only its author may edit it.", e.Target)
	}
	return CodeErrorf(Forbidden, CodeNotYours, "Message %d is someone else's; only its author or an administrator may delete it.", e.Target)
}

// ErrNoMessage is what stores return for an edit or a deletion whose
// target is not a message of its room.
func ErrNoMessage(e *Entry) error {
	return CodeErrorf(NotFound, CodeNoMessage, "There is no message %d in room %q.", e.Target, e.Room)
}

// ErrAlreadyDeleted is what stores return for an edit or a deletion of a
// message that was deleted.
func ErrAlreadyDeleted(e *Entry) error {
	return CodeErrorf(Conflict, CodeAlreadyDeleted, "Message %d was deleted.", e.Target)
}

// ValidateText reports whether text can be the text of a message: valid
// UTF-8, not blank, at most MaxTextBytes bytes.
func ValidateText(text string) error {
	switch {
	case !utf8.ValidString(text):
		return CodeErrorf(Invalid, CodeInvalidUTF8, "Message text is not valid UTF-8.")
	case len(text) > MaxTextBytes:
		return CodeErrorf(Invalid, CodeMessageTooLong, "Message text is longer than %d bytes.", MaxTextBytes)
	case strings.TrimSpace(text) == "":
		return CodeErrorf(Invalid, CodeEmptyMessage, "Message text is empty.")
	}
	return nil
}

// ValidateClientID reports whether id can be a client id: 1 to MaxClientIDLen
// bytes of ASCII letters, digits, '-', '_', '.' or ':'. UUIDs qualify.
func ValidateClientID(id string) error {
	if id == "" {
		return CodeErrorf(Invalid, CodeInvalidClientID, "A client id is required.")
	}
	if len(id) > MaxClientIDLen {
		return CodeErrorf(Invalid, CodeInvalidClientID, "Client id is longer than %d bytes.", MaxClientIDLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == ':'
		if !ok {
			return CodeErrorf(Invalid, CodeInvalidClientID, "Client id may contain only letters, digits, '-', '_', '.' and ':'.")
		}
	}
	return nil
}

// DefaultPageSize and MaxPageSize bound a page of history.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// Page selects part of a room's log: the entries whose sequence numbers lie
// strictly between After and Before (Before 0 means no upper bound), at most
// Limit of them. Oldest picks which end of that range: the oldest entries
// when catching up from After, otherwise the newest, when scrolling back
// from Before. Entries are always returned in ascending order.
type Page struct {
	After  int64
	Before int64
	Limit  int
	Oldest bool
}

// Validate reports whether p is a page that can be read.
func (p Page) Validate() error {
	switch {
	case p.Before < 0:
		return CodeErrorf(Invalid, CodeInvalidPage, "before must not be negative.")
	case p.After < 0:
		return CodeErrorf(Invalid, CodeInvalidPage, "after must not be negative.")
	case p.Limit < 1 || p.Limit > MaxPageSize:
		return CodeErrorf(Invalid, CodeInvalidPage, "limit must be between 1 and %d.", MaxPageSize)
	case p.Before > 0 && p.After >= p.Before:
		return CodeErrorf(Invalid, CodeInvalidPage, "after must be less than before.")
	}
	return nil
}

// ValidateRoomPage reports whether limit can bound a page of rooms.
func ValidateRoomPage(limit int) error {
	if limit < 1 || limit > MaxPageSize {
		return CodeErrorf(Invalid, CodeInvalidPage, "limit must be between 1 and %d.", MaxPageSize)
	}
	return nil
}
