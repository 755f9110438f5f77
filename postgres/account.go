package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley"
)

// Accounts are written by the writer of their name's key, which is also
// the writer of a guest's session for that name (session.go says how the
// two kinds of claim of a name are kept apart).

// CreateAccount stores the new account a and sets a.CreatedAt. It returns
// Invalid for a bad account, and Conflict (nickname_taken) when an
// account, or a guest's session that has not expired, holds a name with
// the same parley.NickKey; such an expired session is ended.
func (db *DB) CreateAccount(ctx context.Context, a *parley.Account) error {
	if err := a.Validate(); err != nil {
		return err
	}
	if !storable(a.PasswordHash) {
		return parley.Errorf(parley.Invalid, "A password hash must not contain the character U+0000.")
	}
	key := parley.NickKey(a.Name)
	o := &op{kind: opCreateAccount, key: key, account: a}
	if err := db.submit(ctx, key, o); err != nil {
		return err
	}
	a.CreatedAt = o.at
	return nil
}

// Account returns the account whose name has name's parley.NickKey, or
// NotFound.
func (db *DB) Account(ctx context.Context, name string) (*parley.Account, error) {
	if db.isClosed() {
		return nil, ErrClosed
	}
	if !storable(name) {
		return nil, parley.ErrNoAccount(name)
	}
	a := &parley.Account{}
	var deactivated *time.Time
	err := db.read.QueryRow(ctx, `
		SELECT name, display_name, password_hash, admin, created_at, deactivated_at
		FROM accounts
		WHERE name_key = $1`, parley.NickKey(name)).
		Scan(&a.Name, &a.DisplayName, &a.PasswordHash, &a.Admin, &a.CreatedAt, &deactivated)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, parley.ErrNoAccount(name)
	case err != nil:
		return nil, fmt.Errorf("read account %q: %w", name, err)
	}
	a.CreatedAt = a.CreatedAt.UTC()
	if deactivated != nil {
		a.Deactivated = deactivated.UTC()
	}
	return a, nil
}

// HasAccounts reports whether the database holds any account, active or
// not.
func (db *DB) HasAccounts(ctx context.Context) (bool, error) {
	if db.isClosed() {
		return false, ErrClosed
	}
	var has bool
	if err := db.read.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM accounts)`).Scan(&has); err != nil {
		return false, fmt.Errorf("read accounts: %w", err)
	}
	return has, nil
}

// UpdateAccount changes what u sets of the account named name, or returns
// NotFound when there is none, and Invalid for a bad display name or
// password hash. Setting a password or deactivating the account ends its
// sessions but u.Keep's, and returns the IDs of those that had not
// expired. A deactivated account keeps the time it was first deactivated
// until it is reactivated.
func (db *DB) UpdateAccount(ctx context.Context, name string, u parley.AccountUpdate) ([]string, error) {
	if err := u.Validate(); err != nil {
		return nil, err
	}
	if u.PasswordHash != nil && !storable(*u.PasswordHash) {
		return nil, parley.Errorf(parley.Invalid, "A password hash must not contain the character U+0000.")
	}
	if !storable(name) || !storable(u.Keep) {
		if db.isClosed() {
			return nil, ErrClosed
		}
		return nil, parley.ErrNoAccount(name)
	}
	key := parley.NickKey(name)
	o := &op{kind: opUpdateAccount, nick: name, key: key, update: u}
	if err := db.submit(ctx, key, o); err != nil {
		return nil, err
	}
	if o.ended == nil {
		return []string{}, nil
	}
	return o.ended, nil
}

// CreateAccountSession starts a session of kind parley.SessionAccount or
// parley.SessionToken, labelled label (cut by parley.SessionLabel), for
// the active account named name, that lasts ttl, and returns its token. It
// returns NotFound when there is no such account or it is deactivated, and
// Invalid for another kind.
func (db *DB) CreateAccountSession(ctx context.Context, name string, kind parley.SessionKind, label string, ttl time.Duration) (string, error) {
	if kind != parley.SessionAccount && kind != parley.SessionToken {
		return "", parley.Errorf(parley.Invalid, "An account's session is of kind %q or %q.", parley.SessionAccount, parley.SessionToken)
	}
	if !storable(name) {
		if db.isClosed() {
			return "", ErrClosed
		}
		return "", parley.ErrNoAccount(name)
	}
	token := parley.NewToken()
	key := parley.NickKey(name)
	o := &op{kind: opCreateAccountSession, nick: name, key: key, tokenHash: parley.HashToken(token),
		sessKind: kind, label: parley.SessionLabel(label), ttl: ttl}
	if err := db.submit(ctx, key, o); err != nil {
		return "", err
	}
	return token, nil
}

// AccountSessions returns the sessions of the account named name that have
// not expired, the newest first, without Admin set.
func (db *DB) AccountSessions(ctx context.Context, name string) ([]*parley.Session, error) {
	if db.isClosed() {
		return nil, ErrClosed
	}
	if !storable(name) {
		return []*parley.Session{}, nil
	}
	rows, _ := db.read.Query(ctx, `
		SELECT token_hash, nick, kind, label, created_at, expires_at
		FROM sessions
		WHERE nick_key = $1 AND kind <> 'guest' AND expires_at > $2
		ORDER BY created_at DESC, token_hash`, parley.NickKey(name), stamp(db.now()))
	sessions, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*parley.Session, error) {
		s := &parley.Session{}
		err := row.Scan(&s.ID, &s.Nick, &s.Kind, &s.Label, &s.CreatedAt, &s.ExpiresAt)
		s.CreatedAt, s.ExpiresAt = s.CreatedAt.UTC(), s.ExpiresAt.UTC()
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("list sessions of account %q: %w", name, err)
	}
	if sessions == nil {
		sessions = []*parley.Session{}
	}
	return sessions, nil
}

// EndAccountSession ends the session whose ID is id if it is a live one of
// the account named name's, and returns NotFound otherwise.
func (db *DB) EndAccountSession(ctx context.Context, name, id string) error {
	if !storable(name) || !storable(id) {
		if db.isClosed() {
			return ErrClosed
		}
		return errNoSession()
	}
	return db.submit(ctx, id, &op{kind: opEndAccountSession, key: parley.NickKey(name), tokenHash: id})
}
