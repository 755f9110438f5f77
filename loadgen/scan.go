package loadgen

import "bytes"

// event holds what the generator needs from one server event, as spans of
// the line it was scanned from: valid until that buffer is reused. Strings
// are raw (still JSON-escaped); the generator's own room names, nicknames,
// client ids and texts never need escaping.
type event struct {
	typ      []byte
	room     []byte
	clientID []byte
	text     []byte
	session  []byte
	code     []byte
	seq      int64
	lastSeq  int64
	hasSeq   bool
}

// scanEvent fills e from one event line, a flat JSON object. Nested values
// (welcome's limits, joined's online) are skipped. It reports false when line
// is not a JSON object it can walk. It allocates nothing: a decoder for
// every delivered event would cost the generator more CPU than the server
// spends sending it.
func scanEvent(line []byte, e *event) bool {
	*e = event{}
	if scanEntry(line, e) {
		return true
	}
	*e = event{}
	i := skipSpace(line, 0)
	if i >= len(line) || line[i] != '{' {
		return false
	}
	i++
	for first := true; ; first = false {
		i = skipSpace(line, i)
		if i >= len(line) {
			return false
		}
		if first && line[i] == '}' {
			return true
		}
		if line[i] != '"' {
			return false
		}
		ks, ke, ok := scanString(line, i)
		if !ok {
			return false
		}
		key := line[ks:ke]
		i = skipSpace(line, ke+1)
		if i >= len(line) || line[i] != ':' {
			return false
		}
		i = skipSpace(line, i+1)
		if i >= len(line) {
			return false
		}
		switch c := line[i]; {
		case c == '"':
			vs, ve, ok := scanString(line, i)
			if !ok {
				return false
			}
			v := line[vs:ve]
			switch string(key) {
			case "type":
				e.typ = v
			case "room":
				e.room = v
			case "clientId":
				e.clientID = v
			case "text":
				e.text = v
			case "session":
				e.session = v
			case "code":
				e.code = v
			}
			i = ve + 1
		case c == '-' || c >= '0' && c <= '9':
			j := i
			for j < len(line) && (line[j] == '-' || line[j] == '+' || line[j] == '.' || line[j] == 'e' || line[j] == 'E' || line[j] >= '0' && line[j] <= '9') {
				j++
			}
			switch string(key) {
			case "seq":
				e.seq, e.hasSeq = parseInt(line[i:j]), true
			case "lastSeq":
				e.lastSeq = parseInt(line[i:j])
			}
			i = j
		case c == '{' || c == '[':
			j, ok := skipNested(line, i)
			if !ok {
				return false
			}
			i = j
		default: // true, false, null
			j := i
			for j < len(line) && line[j] >= 'a' && line[j] <= 'z' {
				j++
			}
			if j == i {
				return false
			}
			i = j
		}
		i = skipSpace(line, i)
		if i >= len(line) {
			return false
		}
		switch line[i] {
		case ',':
			i++
		case '}':
			return true
		default:
			return false
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// scanString returns the span of the contents of the string starting with
// the quote at b[i]; b[end] is its closing quote.
func scanString(b []byte, i int) (start, end int, ok bool) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return i + 1, j, true
		}
	}
	return 0, 0, false
}

// skipNested returns the index just past the object or array at b[i].
func skipNested(b []byte, i int) (int, bool) {
	depth := 0
	for j := i; j < len(b); j++ {
		switch b[j] {
		case '"':
			_, end, ok := scanString(b, j)
			if !ok {
				return 0, false
			}
			j = end
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return j + 1, true
			}
		}
	}
	return 0, false
}

// parseInt parses the leading integer of b, ignoring any fraction.
func parseInt(b []byte) int64 {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		return -n
	}
	return n
}

// leadingInt parses the decimal digits that b starts with; ok is false when
// it starts with none (a message the generator did not send).
func leadingInt(b []byte) (n int64, ok bool) {
	for i, c := range b {
		if c < '0' || c > '9' {
			return n, i > 0
		}
		n = n*10 + int64(c-'0')
	}
	return n, len(b) > 0
}

// Log entries make up nearly everything a member receives, so they have a
// fast path that relies on the server's field order (the JSON tags of
// parley.Entry: room, seq, type, from, text, ...) and reads only the start
// of the text; anything else goes the general way.
var (
	entryRoom = []byte(`{"room":"`)
	entrySeq  = []byte(`","seq":`)
	entryType = []byte(`,"type":"`)
	entryFrom = []byte(`","from":"`)
	entryText = []byte(`,"text":"`)
)

// scanEntry fills e's typ, room, seq and text (the leading digits and one
// more byte) from a log entry in the server's field order, or reports false.
func scanEntry(line []byte, e *event) bool {
	if !bytes.HasPrefix(line, entryRoom) {
		return false
	}
	i := len(entryRoom)
	n := bytes.IndexByte(line[i:], '"')
	if n < 0 || bytes.IndexByte(line[i:i+n], '\\') >= 0 {
		return false
	}
	e.room = line[i : i+n]
	i += n
	if !bytes.HasPrefix(line[i:], entrySeq) {
		return false
	}
	i += len(entrySeq)
	j := i
	for j < len(line) && line[j] >= '0' && line[j] <= '9' {
		j++
	}
	if j == i {
		return false
	}
	e.seq, e.hasSeq = parseInt(line[i:j]), true
	i = j
	if !bytes.HasPrefix(line[i:], entryType) {
		return false
	}
	i += len(entryType)
	n = bytes.IndexByte(line[i:], '"')
	if n < 0 {
		return false
	}
	e.typ = line[i : i+n]
	i += n
	if string(e.typ) != "message" {
		return true
	}
	if !bytes.HasPrefix(line[i:], entryFrom) {
		return false
	}
	_, end, ok := scanString(line, i+len(entryFrom)-1)
	if !ok {
		return false
	}
	i = end + 1
	if !bytes.HasPrefix(line[i:], entryText) {
		return false
	}
	i += len(entryText)
	j = i
	for j < len(line) && line[j] >= '0' && line[j] <= '9' {
		j++
	}
	e.text = line[i:min(j+1, len(line))]
	return true
}
