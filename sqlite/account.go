package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parley-chat/parley"
)

// Accounts, like sessions, are read on the read pool and written through
// the writer goroutine, whose single transaction at a time is what keeps
// names unique between accounts and guests' sessions.

const (
	insertAccount = `
		INSERT INTO accounts (name_key, name, display_name, password_hash, admin, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`
	selectGuestKey = `
		SELECT 1
		FROM sessions
		WHERE nick_key = ? AND kind = 'guest' AND expires_at > ?`
	selectAccount = `
		SELECT name, display_name, password_hash, admin, created_at, deactivated_at
		FROM accounts
		WHERE name_key = ?`
	selectAnyAccount = `
		SELECT EXISTS (SELECT 1 FROM accounts)`
	selectAccountSessions = `
		SELECT token_hash, nick, kind, label, created_at, expires_at
		FROM sessions
		WHERE nick_key = ? AND kind <> 'guest' AND expires_at > ?
		ORDER BY created_at DESC`
	// selectEnded lists the live sessions of an account that a change
	// ends, but the one kept.
	selectEnded = `
		SELECT token_hash
		FROM sessions
		WHERE nick_key = ? AND kind <> 'guest' AND token_hash <> ? AND expires_at > ?`
	deleteAccountSessions = `
		DELETE FROM sessions
		WHERE nick_key = ? AND kind <> 'guest' AND token_hash <> ?`
	deleteAccountSession = `
		DELETE FROM sessions
		WHERE token_hash = ? AND nick_key = ? AND kind <> 'guest' AND expires_at > ?`
)

// CreateAccount stores the new account a and sets a.CreatedAt.
func (db *DB) CreateAccount(ctx context.Context, a *parley.Account) error {
	if err := a.Validate(); err != nil {
		return err
	}
	var at time.Time
	err := db.submit(ctx, func(ctx context.Context, b *batch) error {
		key := parley.NickKey(a.Name)
		for _, q := range []struct {
			query string
			args  []any
		}{{selectAccountKey, []any{key}}, {selectGuestKey, []any{key, b.at.UnixMilli()}}} {
			if taken, err := b.exists(ctx, q.query, q.args...); err != nil || taken {
				if err == nil {
					err = parley.ErrNicknameTaken(a.Name)
				}
				return err
			}
		}
		if _, err := b.freeGuestName(ctx, key); err != nil {
			return err
		}
		if _, err := b.exec(ctx, insertAccount, key, a.Name, a.DisplayName, a.PasswordHash, a.Admin, b.at.UnixMilli()); err != nil {
			return fmt.Errorf("create account %q: %w", a.Name, err)
		}
		at = b.at
		return nil
	})
	if err == nil {
		a.CreatedAt = at
	}
	return err
}

// Account returns the account whose name has name's key, or NotFound.
func (db *DB) Account(ctx context.Context, name string) (*parley.Account, error) {
	if db.isClosed() {
		return nil, ErrClosed
	}
	a := &parley.Account{}
	var createdAt int64
	var deactivated sql.NullInt64
	err := db.readStmts[selectAccount].QueryRowContext(ctx, parley.NickKey(name)).
		Scan(&a.Name, &a.DisplayName, &a.PasswordHash, &a.Admin, &createdAt, &deactivated)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, parley.ErrNoAccount(name)
	case err != nil:
		return nil, fmt.Errorf("read account: %w", err)
	}
	a.CreatedAt = fromMillis(createdAt)
	if deactivated.Valid {
		a.Deactivated = fromMillis(deactivated.Int64)
	}
	return a, nil
}

// HasAccounts reports whether the database holds any account.
func (db *DB) HasAccounts(ctx context.Context) (bool, error) {
	if db.isClosed() {
		return false, ErrClosed
	}
	var has bool
	if err := db.readStmts[selectAnyAccount].QueryRowContext(ctx).Scan(&has); err != nil {
		return false, fmt.Errorf("read accounts: %w", err)
	}
	return has, nil
}

// UpdateAccount changes the account named name as u says, and returns the
// IDs of the sessions that the change ended.
func (db *DB) UpdateAccount(ctx context.Context, name string, u parley.AccountUpdate) ([]string, error) {
	if err := u.Validate(); err != nil {
		return nil, err
	}
	var ended []string
	err := db.submit(ctx, func(ctx context.Context, b *batch) error {
		ended = []string{}
		key := parley.NickKey(name)
		if found, err := b.exists(ctx, selectAccountKey, key); err != nil || !found {
			if err == nil {
				err = parley.ErrNoAccount(name)
			}
			return err
		}
		set := func(column string, value any) error {
			_, err := b.exec(ctx, `UPDATE accounts SET `+column+` = ? WHERE name_key = ?`, value, key)
			if err != nil {
				return fmt.Errorf("update account %q: %w", name, err)
			}
			return nil
		}
		end := false
		var err error
		if u.DisplayName != nil {
			err = errors.Join(err, set("display_name", *u.DisplayName))
		}
		if u.Admin != nil {
			err = errors.Join(err, set("admin", *u.Admin))
		}
		if u.PasswordHash != nil {
			err, end = errors.Join(err, set("password_hash", *u.PasswordHash)), true
		}
		if u.Active != nil && *u.Active {
			err = errors.Join(err, set("deactivated_at", nil))
		}
		if u.Active != nil && !*u.Active {
			end = true
			if _, uerr := b.exec(ctx, `
				UPDATE accounts
				SET deactivated_at = coalesce(deactivated_at, ?)
				WHERE name_key = ?`, b.at.UnixMilli(), key); uerr != nil {
				err = errors.Join(err, fmt.Errorf("deactivate account %q: %w", name, uerr))
			}
		}
		if err != nil || !end {
			return err
		}
		ended, err = b.endSessions(ctx, key, u.Keep)
		return err
	})
	if err != nil {
		return nil, err
	}
	return ended, nil
}

// endSessions ends the sessions of the account whose key is key but the
// one whose ID is keep, and returns the IDs of those that had not expired.
func (b *batch) endSessions(ctx context.Context, key, keep string) ([]string, error) {
	s, err := b.stmt(ctx, selectEnded)
	if err != nil {
		return nil, fmt.Errorf("read sessions: %w", err)
	}
	rows, err := s.QueryContext(ctx, key, keep, b.at.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("read sessions: %w", err)
	}
	ended := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read sessions: %w", err)
		}
		ended = append(ended, id)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, fmt.Errorf("read sessions: %w", err)
	}
	if _, err := b.exec(ctx, deleteAccountSessions, key, keep); err != nil {
		return nil, fmt.Errorf("end sessions: %w", err)
	}
	return ended, nil
}

// CreateAccountSession starts a session of the active account named name.
func (db *DB) CreateAccountSession(ctx context.Context, name string, kind parley.SessionKind, label string, ttl time.Duration) (string, error) {
	if kind != parley.SessionAccount && kind != parley.SessionToken {
		return "", parley.Errorf(parley.Invalid, "An account's session is of kind %q or %q.", parley.SessionAccount, parley.SessionToken)
	}
	token := parley.NewToken()
	label = parley.SessionLabel(label)
	err := db.submit(ctx, func(ctx context.Context, b *batch) error {
		key := parley.NickKey(name)
		var realName string
		var deactivated sql.NullInt64
		err := b.queryRow(ctx, []any{&realName, &deactivated}, `
			SELECT name, deactivated_at
			FROM accounts
			WHERE name_key = ?`, key)
		switch {
		case errors.Is(err, sql.ErrNoRows) || deactivated.Valid:
			return parley.ErrNoAccount(name)
		case err != nil:
			return fmt.Errorf("read account: %w", err)
		}
		if err := b.sweep(ctx); err != nil {
			return err
		}
		_, err = b.insertSession(ctx, token, realName, key, kind, label, ttl)
		return err
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// AccountSessions returns the live sessions of the account named name,
// newest first.
func (db *DB) AccountSessions(ctx context.Context, name string) ([]*parley.Session, error) {
	if db.isClosed() {
		return nil, ErrClosed
	}
	rows, err := db.readStmts[selectAccountSessions].QueryContext(ctx, parley.NickKey(name), db.now().UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("read sessions: %w", err)
	}
	defer rows.Close()
	sessions := []*parley.Session{}
	for rows.Next() {
		s := &parley.Session{}
		var createdAt, expiresAt int64
		if err := rows.Scan(&s.ID, &s.Nick, &s.Kind, &s.Label, &createdAt, &expiresAt); err != nil {
			return nil, fmt.Errorf("read sessions: %w", err)
		}
		s.CreatedAt, s.ExpiresAt = fromMillis(createdAt), fromMillis(expiresAt)
		sessions = append(sessions, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read sessions: %w", err)
	}
	return sessions, nil
}

// EndAccountSession ends the session whose ID is id if it is one of the
// account name's, and returns NotFound otherwise.
func (db *DB) EndAccountSession(ctx context.Context, name, id string) error {
	return db.submit(ctx, func(ctx context.Context, b *batch) error {
		res, err := b.exec(ctx, deleteAccountSession, id, parley.NickKey(name), b.at.UnixMilli())
		if err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("end session: %w", err)
		} else if n == 0 {
			return parley.Errorf(parley.NotFound, "There is no such session.")
		}
		return nil
	})
}
