package protocol

import "strconv"

// decodeFast parses the frames clients send most, without reflection: a
// JSON object whose keys are exactly Frame's field names, unescaped, with
// string and integer values (or null for since and seq), and nothing but
// JSON whitespace around it. It reports false for anything else, valid or
// not, and DecodeFrame then decodes with encoding/json, which gives what
// decodeFast would have given for every frame decodeFast accepts (the fuzz
// test compares them) and the errors for the rest. data is valid UTF-8.
func decodeFast(data []byte) (*Frame, bool) {
	d := fastDecoder{data: data}
	if d.skipSpace(); !d.eat('{') {
		return nil, false
	}
	f := &Frame{}
	if d.skipSpace(); d.eat('}') {
		return f, d.end()
	}
	for {
		d.skipSpace()
		key, ok := d.key()
		if !ok {
			return nil, false
		}
		if d.skipSpace(); !d.eat(':') {
			return nil, false
		}
		d.skipSpace()
		if !d.field(f, key) {
			return nil, false
		}
		d.skipSpace()
		if d.eat('}') {
			return f, d.end()
		}
		if !d.eat(',') {
			return nil, false
		}
	}
}

type fastDecoder struct {
	data []byte
	i    int
}

func (d *fastDecoder) skipSpace() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *fastDecoder) eat(c byte) bool {
	if d.i < len(d.data) && d.data[d.i] == c {
		d.i++
		return true
	}
	return false
}

// end reports whether only whitespace follows.
func (d *fastDecoder) end() bool {
	d.skipSpace()
	return d.i == len(d.data)
}

// key returns an object key with no escapes in it, unconverted.
func (d *fastDecoder) key() ([]byte, bool) {
	if !d.eat('"') {
		return nil, false
	}
	start := d.i
	for d.i < len(d.data) {
		switch c := d.data[d.i]; {
		case c == '"':
			d.i++
			return d.data[start : d.i-1], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
		d.i++
	}
	return nil, false
}

// field decodes the value of key into f. encoding/json matches keys
// without regard to case and ignores unknown ones; decodeFast leaves both
// to it.
func (d *fastDecoder) field(f *Frame, key []byte) bool {
	var ok bool
	switch string(key) {
	case "type":
		f.Type, ok = d.typeValue()
	case "v":
		var n int64
		n, ok = d.integer(strconv.IntSize)
		f.V = int(n)
	case "nick":
		f.Nick, ok = d.str()
	case "session":
		f.Session, ok = d.str()
	case "room":
		f.Room, ok = d.str()
	case "since":
		f.Since, ok = d.optInteger()
	case "seq":
		f.Seq, ok = d.optInteger()
	case "clientId":
		f.ClientID, ok = d.str()
	case "text":
		f.Text, ok = d.str()
	}
	return ok
}

// typeValue decodes a string, sharing the constant's memory for a known
// frame type.
func (d *fastDecoder) typeValue() (string, bool) {
	start := d.i
	s, ok := d.raw()
	if !ok {
		return "", false
	}
	for _, t := range FrameTypes {
		if string(s) == t {
			return t, true
		}
	}
	d.i = start
	return d.str()
}

// raw returns a string value with no escapes in it, unconverted.
func (d *fastDecoder) raw() ([]byte, bool) {
	start := d.i
	s, ok := d.key()
	if !ok {
		d.i = start
	}
	return s, ok
}

// str decodes a string value. Escapes other than \u are decoded; \u is
// left to encoding/json, which replaces a lone surrogate as it does.
func (d *fastDecoder) str() (string, bool) {
	if !d.eat('"') {
		return "", false
	}
	start := d.i
	for d.i < len(d.data) {
		switch c := d.data[d.i]; {
		case c == '"':
			d.i++
			return string(d.data[start : d.i-1]), true
		case c == '\\':
			return d.unescape(start)
		case c < 0x20:
			return "", false
		}
		d.i++
	}
	return "", false
}

// unescape decodes the rest of a string value that starts at start and
// has an escape at d.i.
func (d *fastDecoder) unescape(start int) (string, bool) {
	b := make([]byte, 0, len(d.data)-start)
	b = append(b, d.data[start:d.i]...)
	for d.i < len(d.data) {
		c := d.data[d.i]
		switch {
		case c == '"':
			d.i++
			return string(b), true
		case c < 0x20:
			return "", false
		case c != '\\':
			b = append(b, c)
			d.i++
			continue
		}
		if d.i+1 >= len(d.data) {
			return "", false
		}
		switch d.data[d.i+1] {
		case '"', '\\', '/':
			b = append(b, d.data[d.i+1])
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		default: // \u and what is not an escape
			return "", false
		}
		d.i += 2
	}
	return "", false
}

// integer decodes a JSON integer (no fraction, no exponent) that fits in
// bits.
func (d *fastDecoder) integer(bits int) (int64, bool) {
	start := d.i
	d.eat('-')
	digits := d.i
	for d.i < len(d.data) && '0' <= d.data[d.i] && d.data[d.i] <= '9' {
		d.i++
	}
	switch {
	case d.i == digits, d.data[digits] == '0' && d.i > digits+1:
		return 0, false
	case d.i < len(d.data) && (d.data[d.i] == '.' || d.data[d.i] == 'e' || d.data[d.i] == 'E'):
		return 0, false
	}
	n, err := strconv.ParseInt(string(d.data[start:d.i]), 10, bits)
	return n, err == nil
}

// optInteger decodes an integer, or null as nil.
func (d *fastDecoder) optInteger() (*int64, bool) {
	if d.i+4 <= len(d.data) && string(d.data[d.i:d.i+4]) == "null" {
		d.i += 4
		return nil, true
	}
	n, ok := d.integer(64)
	if !ok {
		return nil, false
	}
	return &n, true
}
