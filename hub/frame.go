package hub

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/parley-chat/parley"
)

// Event frames the server sends that are not log entries. Log entries are
// encoded from parley.Entry, whose JSON tags are the wire format.
type (
	joinedEvent struct {
		Type    string   `json:"type"`
		Room    string   `json:"room"`
		LastSeq int64    `json:"lastSeq"`
		Online  []string `json:"online"`
	}
	presenceEvent struct {
		Type string `json:"type"`
		Room string `json:"room"`
		Nick string `json:"nick"`
	}
	// presenceChanges is the presence of several people at once: the
	// online and offline events of an interval together.
	presenceChanges struct {
		Type    string   `json:"type"`
		Room    string   `json:"room"`
		Online  []string `json:"online"`
		Offline []string `json:"offline"`
	}
	typingEvent struct {
		Type string `json:"type"`
		Room string `json:"room"`
		From string `json:"from"`
	}
)

// mustEncode encodes a value whose type cannot fail to encode.
func mustEncode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("hub: encode " + err.Error())
	}
	return b
}

// EncodeEntry returns e's wire frame.
func EncodeEntry(e *parley.Entry) []byte { return mustEncode(e) }

// encodeEntries returns the frames of entries joined by newlines: one
// WebSocket message carrying them all.
func encodeEntries(entries []*parley.Entry) []byte {
	var buf bytes.Buffer
	buf.Grow(256 * len(entries))
	// An Encoder ends each value with a newline, and encodes as Marshal
	// does, without a copy of each.
	enc := json.NewEncoder(&buf)
	for _, e := range entries {
		if err := enc.Encode(e); err != nil {
			panic("hub: encode " + err.Error())
		}
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})
}

// Sequence numbers of publications that are not log entries.
const (
	seqEvent  = 0  // an ephemeral event every subscriber gets
	seqTyping = -1 // a typing notice, dropped first under load
)

// pack and unpack frame a publication: the sequence number in decimal
// (seqEvent or seqTyping for what is not a log entry), a space, then the
// wire frame.
func pack(seq int64, frame []byte) []byte {
	b := strconv.AppendInt(make([]byte, 0, 21+len(frame)), seq, 10)
	b = append(b, ' ')
	return append(b, frame...)
}

func unpack(msg []byte) (seq int64, frame []byte, ok bool) {
	i := bytes.IndexByte(msg, ' ')
	if i < 1 {
		return 0, nil, false
	}
	seq, err := strconv.ParseInt(string(msg[:i]), 10, 64)
	if err != nil || seq < seqTyping {
		return 0, nil, false
	}
	return seq, msg[i+1:], true
}
