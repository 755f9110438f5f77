package parley

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
)

// DefaultSessionTTL is how long a guest's session lasts after it was last
// extended, unless the operator says otherwise: the nickname stays with its
// owner for that long after they last came, or until they sign out.
const DefaultSessionTTL = 30 * 24 * time.Hour

// Session is a person's proof of identity: whoever presents its token is the
// person called Nick until the session ends (sign-out) or expires. The
// token itself is a secret that only its holder knows; stores keep only its
// hash (HashToken).
type Session struct {
	Nick      string    `json:"nick"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// StoredSession is a session as a store keeps it: under the hash of its
// token (HashToken), since only the session's holder knows the token.
// Copying one store into another (parley migrate copy) moves sessions in
// this form, so that their holders stay signed in.
type StoredSession struct {
	TokenHash string
	Session
}

// NickKey returns the form of nick under which nicknames are unique:
// "Ana" and "ana" are one name.
func NickKey(nick string) string {
	return strings.ToLower(nick)
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
