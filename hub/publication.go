package hub

import (
	"bytes"
	"strconv"
)

// A publication, what the hub sends through the broker, is one entry or
// event, already encoded for the wire (package protocol), with the
// sequence number that orders it.

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
