package parley_test

import (
	"encoding/base64"
	"testing"

	"github.com/parley-chat/parley"
)

func TestNewToken(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		token := parley.NewToken()
		b, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil || len(b) != 16 {
			t.Fatalf("NewToken() = %q, want 128 bits in unpadded base64url", token)
		}
		if seen[token] {
			t.Fatalf("NewToken() = %q twice", token)
		}
		seen[token] = true
	}
}

func TestHashToken(t *testing.T) {
	a, b := parley.NewToken(), parley.NewToken()
	if first, again := parley.HashToken(a), parley.HashToken(a); first != again {
		t.Errorf("HashToken(%q) = %q, then %q; want the same", a, first, again)
	}
	if parley.HashToken(a) == parley.HashToken(b) {
		t.Error("HashToken() of two tokens is the same")
	}
	if h := parley.HashToken(a); len(h) != 64 || h == a {
		t.Errorf("HashToken(%q) = %q, want 64 hex digits of SHA-256", a, h)
	}
}

func TestNickKey(t *testing.T) {
	for _, same := range [][2]string{
		{"Ana", "ana"}, {"ÉVA", "éva"}, {"Zoë 日本", "zoë 日本"},
		{"alice", "\u0430lice"}, // a Cyrillic а
		{"paypal", "pAypal"}, {"bob", "b0b"}, {"mallory", "rnallory"},
		{"straße", "STRASSE"}, {"ﬁle", "file"}, // full case folding, NFKC
		{"Ｂｏｂ", "bob"}, // fullwidth
	} {
		if parley.NickKey(same[0]) != parley.NickKey(same[1]) {
			t.Errorf("NickKey(%q) != NickKey(%q), want one name", same[0], same[1])
		}
	}
	for _, other := range [][2]string{{"ana", "anna"}, {"alice", "alicia"}, {"日本", "日木"}, {"bob", "bobby"}} {
		if parley.NickKey(other[0]) == parley.NickKey(other[1]) {
			t.Errorf("NickKey(%q) == NickKey(%q), want two names", other[0], other[1])
		}
	}
}

func TestSessionErrors(t *testing.T) {
	if err := parley.ErrInvalidSession(); parley.KindOf(err) != parley.Unauthenticated || parley.CodeOf(err) != parley.CodeInvalidSession {
		t.Errorf("ErrInvalidSession() = %v (%v, %s), want Unauthenticated invalid_session", err, parley.KindOf(err), parley.CodeOf(err))
	}
	if err := parley.ErrNicknameTaken("ana"); parley.KindOf(err) != parley.Conflict || parley.CodeOf(err) != parley.CodeNicknameTaken {
		t.Errorf("ErrNicknameTaken() = %v (%v, %s), want Conflict nickname_taken", err, parley.KindOf(err), parley.CodeOf(err))
	}
}
