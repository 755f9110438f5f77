// Package protocol is Parley's WebSocket protocol, docs/PROTOCOL.md, in Go:
// the frames a client sends, the events the server sends, their encoding
// and decoding, and the error and close codes. It is the one place that
// knows the wire format: the hub and package httpapi encode with it, and
// tests and tools decode with it. A test holds PROTOCOL.md's tables to it.
//
// It imports only package parley, whose Entry is the wire form of a log
// entry, and the standard library, and it does no I/O.
package protocol

import "github.com/parley-chat/parley"

// Version is the version of docs/PROTOCOL.md that this package speaks, the
// v of hello and welcome.
const Version = 1

// Close codes: why the server closed a connection, and what the client
// should do (docs/PROTOCOL.md, "Close codes").
const (
	CloseNormal          = 1000 // The session has ended (signout): do not reconnect.
	CloseGoingAway       = 1001 // The server is shutting down: reconnect and resume.
	CloseUnsupportedData = 1003 // The client sent a binary message.
	CloseTooBig          = 1009 // The client sent a message over its limit.
	CloseTooSlow         = 4000 // The outbound queue overflowed: reconnect and resume.
	CloseRateLimited     = 4001 // The client kept sending after rate_limited errors.
	CloseNoHello         = 4002 // No hello within the time allowed.
	CloseAccessChanged   = 4003 // The person may no longer see a room they are in: reconnect and resume.
)

// CloseCodes lists every close code the server sends.
var CloseCodes = []int{
	CloseNormal, CloseGoingAway, CloseUnsupportedData, CloseTooBig,
	CloseTooSlow, CloseRateLimited, CloseNoHello, CloseAccessChanged,
}

// Error codes that only the WebSocket protocol gives; the others come from
// the domain (parley.CodeInvalidNick and its kin).
const (
	CodeBadJSON            = "bad_json"            // a frame that is not a JSON object of the right field types
	CodeUnknownType        = "unknown_type"        // a frame whose type is missing or unknown
	CodeHelloRequired      = "hello_required"      // a frame other than hello came first
	CodeAlreadyGreeted     = "already_greeted"     // a second hello on a connection
	CodeUnsupportedVersion = "unsupported_version" // a hello of a version this server does not speak
	CodeGuestsDisabled     = "guests_disabled"     // a hello to a server without guest access
	CodeNotJoined          = "not_joined"          // a frame for a room the connection has not joined
	CodeAlreadyJoined      = "already_joined"      // a join of a room the connection is in
	CodeBadSince           = "bad_since"           // a join's since outside the room's log
)

// ErrorCodes lists every code an error event may carry.
var ErrorCodes = []string{
	CodeBadJSON, parley.CodeInvalidUTF8, CodeUnknownType, CodeHelloRequired,
	CodeAlreadyGreeted, CodeUnsupportedVersion, parley.CodeInvalidNick,
	parley.CodeNicknameTaken, parley.CodeInvalidSession, CodeGuestsDisabled,
	parley.CodeInvalidRoom, parley.NotFound.String(), CodeNotJoined, CodeAlreadyJoined, CodeBadSince,
	parley.CodeInvalidClientID, parley.CodeEmptyMessage, parley.CodeMessageTooLong, parley.CodeInvalidSeq,
	parley.CodeInvalidTarget, parley.CodeNoMessage, parley.CodeNotYours, parley.CodeAlreadyDeleted,
	parley.CodeArchived, parley.TooMany.String(), parley.Internal.String(),
}
