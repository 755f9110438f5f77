package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parley-chat/parley"
)

// Sessions are read on the read pool and written, like everything else,
// through the writer goroutine: a session is created for every guest's
// first hello, so those writes share the commits of the chat traffic.

// sweepBatch is how many expired sessions a transaction that creates
// sessions sweeps away, at most: a commit holds at most one sweep, so the
// table holds about the sessions that last, and a storm of new sessions
// pays for one sweep a commit, not one each.
const sweepBatch = 16

const (
	sweepExpired = `
		DELETE FROM sessions
		WHERE token_hash IN (
			SELECT token_hash FROM sessions WHERE expires_at <= ? LIMIT ?)`
	// deleteExpiredNick ends an expired session that holds the nickname
	// asked for, to make room for the new one.
	deleteExpiredNick = `
		DELETE FROM sessions
		WHERE nick_key = ? AND kind = 'guest' AND expires_at <= ?`
	// insertSession stores nothing when a guest's session holds the key.
	insertSession = `
		INSERT INTO sessions (token_hash, nick, nick_key, kind, label, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`
	selectAccountKey = `
		SELECT 1
		FROM accounts
		WHERE name_key = ?`
	updateSession = `
		UPDATE sessions
		SET expires_at = ?
		WHERE token_hash = ? AND expires_at > ?`
	deleteSession = `
		DELETE FROM sessions
		WHERE token_hash = ?`
)

// CreateSession starts a session for nick that lasts ttl and returns its
// token. It returns Invalid for a bad nickname and Conflict when a session
// that has not expired holds the nickname.
func (db *DB) CreateSession(ctx context.Context, nick string, ttl time.Duration) (string, error) {
	if err := parley.ValidateNick(nick); err != nil {
		return "", err
	}
	token := parley.NewToken()
	err := db.submit(ctx, func(ctx context.Context, b *batch) error {
		return b.createSession(ctx, token, nick, ttl)
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// createSession stores a guest's session of nick, unless an account or a
// guest's session that has not expired holds the name. Most nicknames are
// free, so it inserts first and looks for an expired holder only when the
// insert finds one.
func (b *batch) createSession(ctx context.Context, token, nick string, ttl time.Duration) error {
	if err := b.sweep(ctx); err != nil {
		return err
	}
	key := parley.NickKey(nick)
	if taken, err := b.exists(ctx, selectAccountKey, key); err != nil || taken {
		if err == nil {
			err = parley.ErrNicknameTaken(nick)
		}
		return err
	}
	insert := func() (bool, error) {
		return b.insertSession(ctx, token, nick, key, parley.SessionGuest, "", ttl)
	}
	stored, err := insert()
	if err != nil || stored {
		return err
	}
	if freed, err := b.freeGuestName(ctx, key); err != nil {
		return err
	} else if !freed {
		return parley.ErrNicknameTaken(nick)
	}
	if stored, err = insert(); err == nil && !stored {
		err = parley.ErrNicknameTaken(nick)
	}
	return err
}

// sweep deletes a few expired sessions, once a batch.
func (b *batch) sweep(ctx context.Context) error {
	if b.swept {
		return nil
	}
	b.swept = true
	if _, err := b.exec(ctx, sweepExpired, b.at.UnixMilli(), sweepBatch); err != nil {
		return fmt.Errorf("sweep expired sessions: %w", err)
	}
	return nil
}

// insertSession stores a session and reports whether it did: not when a
// guest's session holds key already.
func (b *batch) insertSession(ctx context.Context, token, nick, key string, kind parley.SessionKind, label string, ttl time.Duration) (bool, error) {
	res, err := b.exec(ctx, insertSession, parley.HashToken(token), nick, key, string(kind), label, b.at.UnixMilli(), b.at.Add(ttl).UnixMilli())
	if err != nil {
		return false, fmt.Errorf("create session of %q: %w", nick, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// freeGuestName ends a guest's expired session that holds key, and reports
// whether one did: false when a guest's session that lasts holds it.
func (b *batch) freeGuestName(ctx context.Context, key string) (bool, error) {
	res, err := b.exec(ctx, deleteExpiredNick, key, b.at.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("end expired session of %q: %w", key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("end expired session of %q: %w", key, err)
	}
	return n > 0, nil
}

// exists reports whether query, given args, returns a row.
func (b *batch) exists(ctx context.Context, query string, args ...any) (bool, error) {
	var one int
	err := b.queryRow(ctx, []any{&one}, query, args...)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("read: %w", err)
	}
	return true, nil
}

// selectSession reads a session, and the account of an account's session,
// which must be active.
const selectSession = `
	SELECT s.nick, s.kind, s.label, s.created_at, s.expires_at, coalesce(a.admin, 0)
	FROM sessions s
	LEFT JOIN accounts a ON a.name_key = s.nick_key AND s.kind <> 'guest'
	WHERE s.token_hash = ? AND s.expires_at > ?
		AND (s.kind = 'guest' OR (a.name_key IS NOT NULL AND a.deactivated_at IS NULL))`

// Session returns the session of token, or Unauthenticated when there is
// none or it has expired.
func (db *DB) Session(ctx context.Context, token string) (*parley.Session, error) {
	if db.isClosed() {
		return nil, ErrClosed
	}
	var createdAt, expiresAt int64
	s := &parley.Session{ID: parley.HashToken(token)}
	err := db.readStmts[selectSession].QueryRowContext(ctx, s.ID, db.now().UnixMilli()).
		Scan(&s.Nick, &s.Kind, &s.Label, &createdAt, &expiresAt, &s.Admin)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, parley.ErrInvalidSession()
	case err != nil:
		return nil, fmt.Errorf("read session: %w", err)
	}
	s.CreatedAt, s.ExpiresAt = fromMillis(createdAt), fromMillis(expiresAt)
	return s, nil
}

// ExtendSession makes token's session last ttl from now, or returns
// Unauthenticated when there is none or it has expired.
func (db *DB) ExtendSession(ctx context.Context, token string, ttl time.Duration) error {
	return db.submit(ctx, func(ctx context.Context, b *batch) error {
		res, err := b.exec(ctx, updateSession, b.at.Add(ttl).UnixMilli(), parley.HashToken(token), b.at.UnixMilli())
		if err != nil {
			return fmt.Errorf("extend session: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("extend session: %w", err)
		} else if n == 0 {
			return parley.ErrInvalidSession()
		}
		return nil
	})
}

// EndSession ends token's session, if there is one.
func (db *DB) EndSession(ctx context.Context, token string) error {
	return db.submit(ctx, func(ctx context.Context, b *batch) error {
		if _, err := b.exec(ctx, deleteSession, parley.HashToken(token)); err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		return nil
	})
}
