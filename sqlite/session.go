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
		WHERE nick_key = ? AND expires_at <= ?`
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
	err := db.submit(ctx, func(ctx context.Context, b *batch) error {
		return b.createSession(ctx, token, nick, ttl)
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// createSession stores a session of nick, unless one that has not expired
// holds the nickname. Most nicknames are free, so it inserts first and
// looks for an expired holder only when the insert finds one.
func (b *batch) createSession(ctx context.Context, token, nick string, ttl time.Duration) error {
	now := b.at.UnixMilli()
	if !b.swept {
		b.swept = true
		if _, err := b.exec(ctx, sweepExpired, now, sweepBatch); err != nil {
			return fmt.Errorf("sweep expired sessions: %w", err)
		}
	}
	key := parley.NickKey(nick)
	insert := func() (bool, error) {
		res, err := b.exec(ctx, insertSession, parley.HashToken(token), nick, key, now, b.at.Add(ttl).UnixMilli())
		if err != nil {
			return false, fmt.Errorf("create session of %q: %w", nick, err)
		}
		n, err := res.RowsAffected()
		return n > 0, err
	}
	stored, err := insert()
	if err != nil || stored {
		return err
	}
	res, err := b.exec(ctx, deleteExpiredNick, key, now)
	if err != nil {
		return fmt.Errorf("end expired session of %q: %w", nick, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("end expired session of %q: %w", nick, err)
	} else if n == 0 {
		return parley.ErrNicknameTaken(nick)
	}
	if stored, err = insert(); err == nil && !stored {
		err = parley.ErrNicknameTaken(nick)
	}
	return err
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
