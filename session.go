package parley

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mtibben/confusables"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// DefaultSessionTTL is how long a guest's session lasts after it was last
// extended, unless the operator says otherwise: the nickname stays with its
// owner for that long after they last came, or until they sign out.
const DefaultSessionTTL = 30 * 24 * time.Hour

// Session is a person's proof of identity: whoever presents its token is the
// person called Nick until the session ends (sign-out, revocation) or
// expires. The token itself is a secret that only its holder knows; stores
// keep only its hash (HashToken), which is also the session's ID.
type Session struct {
	ID        string      `json:"id"` // HashToken of its token: names it, and cannot stand in for it
	Nick      string      `json:"nick"`
	Kind      SessionKind `json:"kind"`
	Label     string      `json:"label,omitempty"` // says which device or bot holds it
	CreatedAt time.Time   `json:"createdAt"`
	ExpiresAt time.Time   `json:"expiresAt"`

	// Admin is whether the session's account is an admin's, when it was
	// read.
	Admin bool `json:"-"`
}

// SessionKind says who holds a session.
type SessionKind string

const (
	SessionGuest   SessionKind = "guest"   // a guest's nickname, held while the session lasts
	SessionAccount SessionKind = "account" // an account's, signed in with a password (a browser's cookie)
	SessionToken   SessionKind = "token"   // an account's bearer token, for bots and scripts
)

// Guest reports whether s is a guest's, not an account's.
func (s *Session) Guest() bool { return s.Kind == SessionGuest }

// MaxLabelLen is the longest session label, in characters; longer ones
// are cut.
const MaxLabelLen = 100

// SessionLabel returns label as a session's: cut to MaxLabelLen
// characters, with anything unprintable dropped.
func SessionLabel(label string) string {
	var b strings.Builder
	n := 0
	for _, r := range label {
		if n == MaxLabelLen {
			break
		}
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			continue
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}

// StoredSession is a session as a store keeps it: under the hash of its
// token (HashToken), since only the session's holder knows the token.
// Copying one store into another (parley migrate copy) moves sessions in
// this form, so that their holders stay signed in.
type StoredSession struct {
	TokenHash string // equal to Session.ID
	Session
}

// NickKey returns the form of a name under which names are unique, and
// which no two names that look alike can avoid sharing: account names and
// guest nicknames are one namespace, so "Ana" and "ana" are one name, and
// so are "alice" and "аlice" (with a Cyrillic а), or "rn" and "m".
//
// The key is the confusable skeleton of Unicode Technical Standard #39
// (section 4, with its confusables table) of the name's full case folding
// after NFKC, folded once more: skeleton("Ana") is "Ana", and the last
// fold makes "ana" of it.
func NickKey(nick string) string {
	// A Caser keeps state, so each call makes its own.
	folded := cases.Fold().String(norm.NFKC.String(nick))
	return cases.Fold().String(confusables.Skeleton(folded))
}

// tokenBytes is the size of a session token's secret: 128 random bits.
const tokenBytes = 16

// NewToken returns a new session token: 128 bits from the operating
// system's secure random source, in unpadded base64url (22 characters).
// Only stores call it, when they create a session: a client never chooses
// its own token.
func NewToken() string {
	b := make([]byte, tokenBytes)
	rand.Read(b) // never fails; see crypto/rand
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken returns the form in which stores keep token: the hex SHA-256
// of its text. A token has 128 random bits, so a fast hash suffices; one
// who reads the database learns no token it could present.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ErrInvalidSession is what stores return for a token they do not know, or
// whose session has expired or ended.
func ErrInvalidSession() error {
	return CodeErrorf(Unauthenticated, CodeInvalidSession, "The session is unknown, has expired or has ended. Sign in again.")
}

// ErrNicknameTaken is what stores return for a session whose nickname
// someone else holds.
func ErrNicknameTaken(nick string) error {
	return CodeErrorf(Conflict, CodeNicknameTaken, "The nickname %q is taken. Choose another.", nick)
}
