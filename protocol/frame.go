package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"unicode/utf8"

	"github.com/parley-chat/parley"
)

// Types of the frames a client sends.
const (
	FrameHello   = "hello"
	FrameJoin    = "join"
	FrameLeave   = "leave"
	FrameSend    = "send"
	FrameEdit    = "edit"
	FrameDelete  = "delete"
	FrameTyping  = "typing"
	FrameRead    = "read"
	FramePing    = "ping"
	FrameSignout = "signout"
)

// FrameTypes lists every type of frame a client may send.
var FrameTypes = []string{FrameHello, FrameJoin, FrameLeave, FrameSend, FrameEdit, FrameDelete, FrameTyping, FrameRead, FramePing, FrameSignout}

// Frame is any frame a client sends; which fields count depends on Type.
// Encoded (by a client), it leaves out the fields that are not set.
type Frame struct {
	Type    string `json:"type"`
	V       int    `json:"v,omitempty"`
	Nick    string `json:"nick,omitempty"`
	Session string `json:"session,omitempty"`
	Room    string `json:"room,omitempty"`
	Since   *int64 `json:"since,omitempty"`
	// Seq is read's sequence number, and the one of the message that an
	// edit or a delete changes; nil when the frame has none.
	Seq      *int64 `json:"seq,omitempty"`
	ClientID string `json:"clientId,omitempty"`
	Text     string `json:"text,omitempty"`
}

// SeqOr0 returns f.Seq, or 0 when it has none.
func (f *Frame) SeqOr0() int64 {
	if f.Seq == nil {
		return 0
	}
	return *f.Seq
}

// DecodeFrame parses one client frame. It returns an Invalid *parley.Error
// with the protocol's code (invalid_utf8, bad_json or unknown_type) when
// data is not a frame of a type this package knows.
func DecodeFrame(data []byte) (*Frame, error) {
	// encoding/json would quietly replace invalid UTF-8; refuse it instead.
	if !utf8.Valid(data) {
		return nil, parley.CodeErrorf(parley.Invalid, parley.CodeInvalidUTF8, "The frame is not valid UTF-8.")
	}
	f, ok := decodeFast(data)
	if !ok {
		var err error
		if f, err = decodeJSON(data); err != nil {
			return nil, err
		}
	}
	if !slices.Contains(FrameTypes, f.Type) {
		return nil, parley.CodeErrorf(parley.Invalid, CodeUnknownType, "Unknown frame type %q.", f.Type)
	}
	return f, nil
}

// decodeJSON decodes data, valid UTF-8, with encoding/json: the frames
// decodeFast leaves to it, and the reference it is tested against.
func decodeJSON(data []byte) (*Frame, error) {
	if t := bytes.TrimSpace(data); len(t) == 0 || t[0] != '{' {
		return nil, parley.CodeErrorf(parley.Invalid, CodeBadJSON, "A frame must be one JSON object.")
	}
	var f Frame
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, parley.CodeErrorf(parley.Invalid, CodeBadJSON, "The frame is not valid JSON for its fields: %v.", jsonProblem(err))
	}
	return &f, nil
}

// jsonProblem says what is wrong with a frame without echoing Go types.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "field " + te.Field + " has the wrong type"
	}
	return "malformed JSON"
}

// Encode returns f as a client sends it.
func (f *Frame) Encode() []byte { return mustMarshal(f) }
