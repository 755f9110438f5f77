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

// sweepBatch is how many expired sessions each new session sweeps away at
// most: more than are made, so the table holds about the sessions that
// last, and few enough that a sweep costs a new session nothing to speak of.
const sweepBatch = 16

const (
	// deleteExpired ends expired sessions: the one that holds the nickname
	// asked for, to make room for the new one, and up to sweepBatch others.
	deleteExpired = `
		DELETE FROM sessions
		WHERE expires_at <= ?1 AND (nick_key = ?2 OR token_hash IN (
			SELECT token_hash FROM sessions WHERE expires_at <= ?1 LIMIT ?3))`
	insertSession = `
		INSERT INTO sessions (token_hash, nick, nick_key, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (nick_key) DO NOTHING`
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
	key := parley.NickKey(nick)
	err := db.submit(ctx, func(ctx context.Context, b *batch) error {
		now := b.at.UnixMilli()
		if _, err := b.exec(ctx, deleteExpired, now, key, sweepBatch); err != nil {
			return fmt.Errorf("end expired sessions: %w", err)
		}
		res, err := b.exec(ctx, insertSession, parley.HashToken(token), nick, key, now, b.at.Add(ttl).UnixMilli())
		if err != nil {
			return fmt.Errorf("create session of %q: %w", nick, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("create session of %q: %w", nick, err)
		} else if n == 0 {
			return parley.ErrNicknameTaken(nick)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

const selectSession = `
	SELECT nick, created_at, expires_at
	FROM sessions
	WHERE token_hash = ? AND expires_at > ?`

// Session returns the session of token, or Unauthenticated when there is
// none or it has expired.
func (db *DB) Session(ctx context.Context, token string) (*parley.Session, error) {
	if db.isClosed() {
		return nil, ErrClosed
	}
	var createdAt, expiresAt int64
	s := &parley.Session{}
	err := db.readStmts[selectSession].QueryRowContext(ctx, parley.HashToken(token), db.now().UnixMilli()).
		Scan(&s.Nick, &createdAt, &expiresAt)
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
