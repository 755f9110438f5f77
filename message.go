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
)

// Entry is one item of a room's log: everything a late reader must see to
// reconstruct the room. Every entry has the room's next sequence number,
// assigned by the store in the transaction that stores it.
type Entry struct {
	Room string    `json:"room"`
	Seq  int64     `json:"seq"`
	Kind EntryKind `json:"type"`
	From string    `json:"from"`
	// Text is the message text; empty for joins and leaves.
	Text string `json:"text,omitempty"`
	// ClientID is the id the sender gave the message, unique per sender and
	// room, which makes a retried send idempotent.
	ClientID string    `json:"clientId,omitempty"`
	At       time.Time `json:"at"`
}

// Validate reports whether e is a message that may be stored. It checks only
// what can be checked without a database.
func (e *Entry) Validate() error {
	if err := ValidateRoomName(e.Room); err != nil {
		return err
	}
	switch {
	case e.Kind != KindMessage:
		return Errorf(Invalid, "Only messages can be sent.")
	case e.From == "":
		return Errorf(Invalid, "A message needs a sender.")
	}
	if err := ValidateClientID(e.ClientID); err != nil {
		return err
	}
	return ValidateText(e.Text)
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
