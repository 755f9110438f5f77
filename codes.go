package parley

// The codes of the errors of the domain that users see (Error.Code), on the
// WebSocket (docs/PROTOCOL.md, where package protocol lists every code a
// client can get) and in the REST API (docs/openapi.json). Errors of other
// codes are made where they arise; an error without a code shows its
// kind's name (Kind.String).
const (
	CodeInvalidNick     = "invalid_nick"      // a nickname breaks the rules of ValidateNick
	CodeInvalidRoom     = "invalid_room"      // a room name breaks the rules of ValidateRoomName
	CodeInvalidUTF8     = "invalid_utf8"      // text that is not valid UTF-8
	CodeEmptyMessage    = "empty_message"     // a message text that is blank
	CodeMessageTooLong  = "message_too_long"  // a message text over MaxTextBytes
	CodeInvalidClientID = "invalid_client_id" // a client id that ValidateClientID refuses
	CodeInvalidPage     = "invalid_page"      // a page of history that Page.Validate refuses
	CodeNicknameTaken   = "nickname_taken"    // a nickname another session holds
	CodeInvalidSession  = "invalid_session"   // a session token the store does not know, or whose session ended
	CodeInvalidTarget   = "invalid_target"    // an edit or a deletion without the sequence number of a message
	CodeNoMessage       = "no_message"        // an edit or a deletion of what is not a message of the room
	CodeNotYours        = "not_yours"         // an edit or a deletion of someone else's message
	CodeAlreadyDeleted  = "already_deleted"   // an edit or a deletion of a deleted message
	CodeInvalidSeq      = "invalid_seq"       // a read marker that is negative or beyond its room's log
	CodeArchived        = "archived"          // a message, an edit or a deletion sent to an archived room
	CodeDefaultRoom     = "default_room"      // archiving or deleting the default room

	CodeInvalidPassword    = "invalid_password"     // a new password that ValidatePassword refuses
	CodeInvalidDisplayName = "invalid_display_name" // a display name that ValidateDisplayName refuses
	CodeRoomExists         = "room_exists"          // a room made under a name taken
)
