package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"

	"github.com/parley-chat/parley"
)

// ProtocolVersion is the version of docs/PROTOCOL.md that this server speaks.
const ProtocolVersion = 1

// frame is any frame a client sends; which fields count depends on Type.
type frame struct {
	Type     string `json:"type"`
	V        int    `json:"v"`
	Nick     string `json:"nick"`
	Session  string `json:"session"`
	Room     string `json:"room"`
	Since    *int64 `json:"since"`
	ClientID string `json:"clientId"`
	Text     string `json:"text"`
}

var frameTypes = map[string]bool{
	"hello": true, "join": true, "leave": true, "send": true, "typing": true, "ping": true, "signout": true,
}

// decodeFrame parses one client frame. It returns an Invalid *parley.Error
// with the protocol's code (invalid_utf8, bad_json, unknown_type) when data
// is not a frame this server knows.
func decodeFrame(data []byte) (*frame, error) {
	// encoding/json would quietly replace invalid UTF-8; refuse it instead.
	if !utf8.Valid(data) {
		return nil, parley.CodeErrorf(parley.Invalid, "invalid_utf8", "The frame is not valid UTF-8.")
	}
	if t := bytes.TrimSpace(data); len(t) == 0 || t[0] != '{' {
		return nil, parley.CodeErrorf(parley.Invalid, "bad_json", "A frame must be one JSON object.")
	}
	var f frame
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, parley.CodeErrorf(parley.Invalid, "bad_json", "The frame is not valid JSON for its fields: %v.", jsonProblem(err))
	}
	if !frameTypes[f.Type] {
		return nil, parley.CodeErrorf(parley.Invalid, "unknown_type", "Unknown frame type %q.", f.Type)
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

// Events the server sends in reply to a client's own frames.
type (
	welcomeEvent struct {
		Type    string `json:"type"`
		V       int    `json:"v"`
		Nick    string `json:"nick"`
		Session string `json:"session"`
		Limits  limits `json:"limits"`
	}
	limits struct {
		MaxTextBytes  int `json:"maxTextBytes"`
		MaxFrameBytes int `json:"maxFrameBytes"`
		MaxNickLength int `json:"maxNickLength"`
		MaxRoomLength int `json:"maxRoomLength"`
	}
	ackEvent struct {
		Type     string `json:"type"`
		Room     string `json:"room"`
		ClientID string `json:"clientId"`
		Seq      int64  `json:"seq"`
		At       string `json:"at"`
	}
	roomEvent struct {
		Type string `json:"type"`
		Room string `json:"room,omitempty"`
	}
	errorEvent struct {
		Type     string `json:"type"`
		Code     string `json:"code"`
		Message  string `json:"message"`
		Room     string `json:"room,omitempty"`
		ClientID string `json:"clientId,omitempty"`
	}
)

// marshal encodes an event whose type cannot fail to encode.
func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("httpapi: encode " + err.Error())
	}
	return b
}
