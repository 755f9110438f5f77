package protocol

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parley-chat/parley"
)

// frameSeeds are frames a client might send, valid and not; the test and
// the fuzz test's seed corpus share them. code is "" for a valid frame.
var frameSeeds = []struct {
	data string
	code string
}{
	{`{"type":"hello","v":1,"nick":"ana"}`, ""},
	{`{"type":"hello","v":1,"nick":"ana","session":"3q2-7wEjRxK9l1vXc0hY8A"}`, ""},
	{`{"type":"join","room":"general","since":41}`, ""},
	{`{"type":"join","room":"general","since":null}`, ""},
	{`{"type":"send","room":"general","clientId":"0b7e8c1e","text":"Hello, world"}`, ""},
	{`{"type":"edit","room":"general","seq":43,"clientId":"0b7e8c1f","text":"Hello, all"}`, ""},
	{`{"type":"delete","room":"general","seq":43,"clientId":"0b7e8c20"}`, ""},
	{`{"type":"delete","room":"general","seq":"43","clientId":"0b7e8c20"}`, "bad_json"},
	{`{"type":"typing","room":"general"}`, ""},
	{`{"type":"read","room":"general","seq":41}`, ""},
	{`{"type":"leave","room":"general"}`, ""},
	{`{"type":"signout"}`, ""},
	{" \t\r\n{\"type\":\"ping\"}\n", ""},
	{`{"type":"ping","unknown":{"nested":[1,2,3]}}`, ""},
	{`{"type":"send","room":"général","clientId":"c","text":"\ud83d\udc4b \u00e9"}`, ""},
	{``, "bad_json"},
	{` `, "bad_json"},
	{`{`, "bad_json"},
	{`{"type":"ping"`, "bad_json"},
	{`{"type":"ping"}}`, "bad_json"},
	{`{"type":"ping"} {"type":"ping"}`, "bad_json"},
	{`[{"type":"ping"}]`, "bad_json"},
	{`"ping"`, "bad_json"},
	{`null`, "bad_json"},
	{`42`, "bad_json"},
	{`{"type":1}`, "bad_json"},
	{`{"type":"join","room":"general","since":"x"}`, "bad_json"},
	{`{"type":"join","room":"general","since":1.5}`, "bad_json"},
	{`{"type":"join","room":"general","since":1e999}`, "bad_json"},
	{`{"type":"read","room":"general","seq":"41"}`, "bad_json"},
	{`{"type":"hello","v":"1"}`, "bad_json"},
	{`{"type":"send","text":["a"]}`, "bad_json"},
	{"\u00a0{\"type\":\"ping\"}", "bad_json"},
	{`{}`, "unknown_type"},
	{`{"type":""}`, "unknown_type"},
	{`{"type":"dance"}`, "unknown_type"},
	{`{"type":"ping","type":"dance"}`, "unknown_type"},
	{`{"room":"general"}`, "unknown_type"},
	{"{\"type\":\"send\",\"text\":\"\xff\"}", "invalid_utf8"},
	{"{\"type\":\"ping\"}\xc3", "invalid_utf8"},
	{"\xed\xa0\x80", "invalid_utf8"}, // a UTF-16 surrogate in UTF-8
	{`{"type":"send","room":"general","clientId":"c","text":"a \"quote\", a \\ and\n\ttabs \/ \b\f\r"}`, ""},
	{`{"type":"send","room":"general","clientId":"c","text":"\ud83d"}`, ""}, // a lone surrogate becomes U+FFFD
	{`{"type":"send","room":"general","text":"\x"}`, "bad_json"},
	{"{\"type\":\"send\",\"text\":\"a\tb\"}", "bad_json"}, // a raw control character
	{`{"TYPE":"ping"}`, ""},                               // keys match without regard to case
	{`{"t\u0079pe":"ping"}`, ""},
	{`{"type":"read","room":"general","seq":-0}`, ""},
	{`{"type":"read","room":"general","seq":01}`, "bad_json"},
	{`{"type":"read","room":"general","seq":-}`, "bad_json"},
	{`{"type":"read","room":"general","seq":9223372036854775808}`, "bad_json"},
	{`{"type":"join","room":"general","since":1,"since":null}`, ""},
	{`{"type":"join","room":null,"room":"general"}`, ""},
	{`{"type":"ping",}`, "bad_json"},
	{`{"type" "ping"}`, "bad_json"},
}

func TestDecodeFrame(t *testing.T) {
	for _, tt := range frameSeeds {
		f, err := DecodeFrame([]byte(tt.data))
		if tt.code == "" {
			if err != nil || f == nil {
				t.Errorf("DecodeFrame(%q) = %v, %v; want a frame", tt.data, f, err)
			}
			continue
		}
		if f != nil || parley.KindOf(err) != parley.Invalid || parley.CodeOf(err) != tt.code {
			t.Errorf("DecodeFrame(%q) = %v, %v (code %s); want an Invalid error with code %s",
				tt.data, f, err, parley.CodeOf(err), tt.code)
		}
	}
}

func TestDecodeFrameFields(t *testing.T) {
	f, err := DecodeFrame([]byte(`{"type":"send","room":"général","clientId":"c-1","text":"Hi \ud83d\udc4b","v":1,"nick":"ana","session":"s","since":0}`))
	if err != nil {
		t.Fatalf("DecodeFrame() = %v", err)
	}
	want := Frame{Type: "send", V: 1, Nick: "ana", Session: "s", Room: "général", ClientID: "c-1", Text: "Hi 👋"}
	if f.Since == nil || *f.Since != 0 {
		t.Errorf("DecodeFrame() since = %v, want 0, not missing", f.Since)
	}
	f.Since = nil
	if *f != want {
		t.Errorf("DecodeFrame() = %+v, want %+v", *f, want)
	}
}

func FuzzDecodeFrame(f *testing.F) {
	for _, s := range frameSeeds {
		f.Add([]byte(s.data))
	}
	codes := map[string]bool{"invalid_utf8": true, "bad_json": true, "unknown_type": true}
	f.Fuzz(func(t *testing.T, data []byte) {
		if utf8.Valid(data) {
			checkFast(t, data)
		}
		fr, err := DecodeFrame(data)
		if err != nil {
			e, ok := err.(*parley.Error)
			if !ok || e.Kind != parley.Invalid || !codes[e.Code] || e.Message == "" {
				t.Fatalf("DecodeFrame(%q) error = %#v, want a *parley.Error of kind Invalid with code invalid_utf8, bad_json or unknown_type", data, err)
			}
			if fr != nil {
				t.Fatalf("DecodeFrame(%q) = %+v with error %v, want no frame", data, fr, err)
			}
			if !utf8.Valid(data) != (e.Code == "invalid_utf8") {
				t.Fatalf("DecodeFrame(%q) code %s, want invalid_utf8 exactly when the frame is not UTF-8", data, e.Code)
			}
			return
		}
		if fr == nil {
			t.Fatalf("DecodeFrame(%q) = nil, nil; want a frame or an error", data)
		}
		if !slices.Contains(FrameTypes, fr.Type) {
			t.Fatalf("DecodeFrame(%q) type %q, want a known type", data, fr.Type)
		}
		if !utf8.ValidString(fr.Text) || !utf8.ValidString(fr.Nick) || !utf8.ValidString(fr.Room) {
			t.Fatalf("DecodeFrame(%q) = %+v, want valid UTF-8 fields", data, fr)
		}
		if strings.TrimSpace(string(data))[0] != '{' {
			t.Fatalf("DecodeFrame(%q) accepted something that is not a JSON object", data)
		}
	})
}

// checkFast fails t unless decodeFast, when it decodes data, decodes it as
// encoding/json does.
func checkFast(t *testing.T, data []byte) {
	t.Helper()
	fast, ok := decodeFast(data)
	if !ok {
		return
	}
	ref, err := decodeJSON(data)
	if err != nil {
		t.Fatalf("decodeFast(%q) = %+v; encoding/json: %v", data, fast, err)
	}
	if !sameFrame(fast, ref) {
		t.Fatalf("decodeFast(%q) = %+v; encoding/json: %+v", data, fast, ref)
	}
}

func sameFrame(a, b *Frame) bool {
	eq := func(x, y *int64) bool { return x == nil && y == nil || x != nil && y != nil && *x == *y }
	if !eq(a.Since, b.Since) || !eq(a.Seq, b.Seq) {
		return false
	}
	x, y := *a, *b
	x.Since, x.Seq, y.Since, y.Seq = nil, nil, nil, nil
	return x == y
}

func TestDecodeFast(t *testing.T) {
	for _, tt := range frameSeeds {
		if utf8.ValidString(tt.data) {
			checkFast(t, []byte(tt.data))
		}
	}
	// The frames clients send most are decoded without encoding/json.
	for _, data := range []string{
		`{"type":"send","room":"general","clientId":"0b7e8c1e","text":"Hello, \"world\"\n"}`,
		`{"type":"typing","room":"général"}`,
		`{"type":"read","room":"general","seq":41}`,
		`{"type":"ping"}`,
		`{"type":"join","room":"general","since":null}`,
		` {"type":"hello","v":1,"nick":"ana","session":"3q2-7wEjRxK9l1vXc0hY8A"} `,
	} {
		if _, ok := decodeFast([]byte(data)); !ok {
			t.Errorf("decodeFast(%q) left it to encoding/json", data)
		}
	}
}

func BenchmarkDecodeFrame(b *testing.B) {
	data := []byte(`{"type":"send","room":"general","clientId":"0b7e8c1e-2f52-4f6a-9a55-1b7f2c3d4e5f","text":"a message of about a hundred bytes, as the load generator sends them: hello!"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeFrame(data); err != nil {
			b.Fatal(err)
		}
	}
}
