package parley

import (
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
type Room struct {
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
	// LastSeq is the sequence number of the newest entry of the room's log,
	// 0 when the log is empty.
	LastSeq int64 `json:"lastSeq"`
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
