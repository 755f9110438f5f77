package parley

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Passwords are kept as argon2id hashes (RFC 9106) in the PHC string form
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// (salt and hash in unpadded standard base64), so that each hash carries
// the parameters it was made with: raising PasswordParams later makes new
// hashes stronger while old ones still check, and CheckPassword says when a
// hash should be made again at the next sign-in.

// PasswordParams are argon2id's costs.
type PasswordParams struct {
	Memory  uint32 // KiB of memory each hash takes
	Time    uint32 // passes over that memory
	Threads uint8  // lanes computed in parallel
	SaltLen uint32 // bytes of random salt
	KeyLen  uint32 // bytes of hash
}

// DefaultPasswordParams are the costs of new hashes: OWASP's recommended
// minimum for argon2id (19 MiB, 2 passes, 1 lane), about 29 ms of one core
// (BenchmarkHashPassword).
// A server bounds how many hashes run at once (so a burst of sign-ins
// takes at most that many times 19 MiB).
var DefaultPasswordParams = PasswordParams{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Password rules. MaxPasswordBytes bounds the work a sign-in can ask for.
const (
	MinPasswordLen   = 8    // characters
	MaxPasswordBytes = 1024 // bytes of UTF-8
)

// ValidatePassword reports whether password may be chosen: MinPasswordLen
// characters or more, at most MaxPasswordBytes bytes of valid UTF-8.
// Anything else goes: spaces, any script, a passphrase.
func ValidatePassword(password string) error {
	switch {
	case !utf8.ValidString(password):
		return CodeErrorf(Invalid, CodeInvalidPassword, "The password is not valid UTF-8.")
	case utf8.RuneCountInString(password) < MinPasswordLen:
		return CodeErrorf(Invalid, CodeInvalidPassword, "The password must have at least %d characters.", MinPasswordLen)
	case len(password) > MaxPasswordBytes:
		return CodeErrorf(Invalid, CodeInvalidPassword, "The password must have at most %d bytes.", MaxPasswordBytes)
	}
	return nil
}

// HashPassword returns the argon2id hash of password with the costs p and
// a new random salt, in PHC string form.
func HashPassword(password string, p PasswordParams) string {
	salt := make([]byte, p.SaltLen)
	rand.Read(salt) // never fails; see crypto/rand
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// maxHashMemory bounds the memory a stored hash may ask CheckPassword for
// (4 GiB), so that a corrupt row cannot take the server down.
const maxHashMemory = 4 << 20

// CheckPassword reports whether password is the one whose hash is encoded,
// comparing in constant time, and whether the hash was made with costs
// other than p, so should be made again now that the password is known.
// It returns an error only for a hash it cannot read.
func CheckPassword(encoded, password string, p PasswordParams) (ok, rehash bool, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false, false, fmt.Errorf("password hash: not an argon2id PHC string")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, false, fmt.Errorf("password hash: argon2 version %q", parts[2])
	}
	var h PasswordParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.Memory, &h.Time, &h.Threads); err != nil ||
		h.Memory == 0 || h.Memory > maxHashMemory || h.Time == 0 || h.Threads == 0 {
		return false, false, fmt.Errorf("password hash: parameters %q", parts[3])
	}
	salt, err := base64.RawStdEncoding.Strict().DecodeString(parts[4])
	if err != nil || len(salt) == 0 {
		return false, false, fmt.Errorf("password hash: salt: %v", err)
	}
	want, err := base64.RawStdEncoding.Strict().DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, false, fmt.Errorf("password hash: hash: %v", err)
	}
	h.SaltLen, h.KeyLen = uint32(len(salt)), uint32(len(want))
	got := argon2.IDKey([]byte(password), salt, h.Time, h.Memory, h.Threads, h.KeyLen)
	ok = subtle.ConstantTimeCompare(got, want) == 1
	return ok, ok && h != p, nil
}
