package parley

import (
	"strings"
	"time"
)

// Account is a person who signs in with a password, and keeps their name
// for good: account names and guests' nicknames are one namespace
// (NickKey), and an account's name is never free for a guest.
type Account struct {
	Name        string    `json:"name"`        // a nickname (ValidateNick), fixed at sign-up
	DisplayName string    `json:"displayName"` // how the person likes to be shown; may change
	Admin       bool      `json:"admin"`       // may administer the server and every room
	CreatedAt   time.Time `json:"createdAt"`
	// Deactivated is when an admin or operator closed the account, or
	// zero. A deactivated account has no sessions and cannot sign in.
	Deactivated time.Time `json:"deactivatedAt,omitzero"`

	// PasswordHash is the password's argon2id hash (HashPassword); never
	// sent to anyone.
	PasswordHash string `json:"-"`
}

// MaxDisplayNameLen is the longest display name, in characters.
const MaxDisplayNameLen = 64

// Validate reports whether a can be stored as a new account: its name is a
// valid nickname, its display name valid, and it has a password hash.
func (a *Account) Validate() error {
	if err := ValidateNick(a.Name); err != nil {
		return err
	}
	if err := ValidateDisplayName(a.DisplayName); err != nil {
		return err
	}
	if !strings.HasPrefix(a.PasswordHash, "$argon2id$") {
		return Errorf(Invalid, "An account needs a password hash.")
	}
	return nil
}

// ValidateDisplayName reports whether name can be shown for an account:
// empty (the account's name is shown), or up to MaxDisplayNameLen
// characters by the rules of nicknames otherwise.
func ValidateDisplayName(name string) error {
	if name == "" {
		return nil
	}
	return checkName(name, MaxDisplayNameLen, CodeInvalidDisplayName, "Display name")
}

// ErrNoAccount is what stores return for an account they do not have.
func ErrNoAccount(name string) error {
	return Errorf(NotFound, "There is no account %q.", name)
}
