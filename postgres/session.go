package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/parley-chat/parley"
)

// Sessions are read on the read pool and written, like everything else,
// by the writers: a session is created for every guest's first hello, so
// those writes share the commits of the chat traffic. A new session goes
// to the writer of its nickname, so that people asking for one nickname at
// once meet in one queue; other replicas' are kept out by the unique
// nick_key, under which PostgreSQL makes the second wait for the first.

// sweepBatch is how many expired sessions a transaction that creates
// sessions sweeps away, at most: a commit holds at most one sweep, so the
// table holds about the sessions that last, and a storm of new sessions
// pays for one sweep a commit, not one each.
const sweepBatch = 16

const (
	// sweepExpired skips the rows that another transaction has locked
	// (another replica's sweep, or a session being replaced), so sweeps
	// never wait.
	sweepExpired = `
		DELETE FROM sessions
		WHERE token_hash IN (
			SELECT token_hash FROM sessions
			WHERE expires_at <= $1
			LIMIT $2
			FOR UPDATE SKIP LOCKED)`
	// upsertSession stores a new session unless a session that has not
	// expired holds the nickname; an expired one is replaced. It returns a
	// row only when it stored the session.
	upsertSession = `
		INSERT INTO sessions (token_hash, nick, nick_key, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (nick_key) DO UPDATE
		SET token_hash = excluded.token_hash, nick = excluded.nick,
			created_at = excluded.created_at, expires_at = excluded.expires_at
		WHERE sessions.expires_at <= excluded.created_at
		RETURNING true`
	updateSession = `
		UPDATE sessions
		SET expires_at = $1
		WHERE token_hash = $2 AND expires_at > $3`
	deleteSession = `
		DELETE FROM sessions
		WHERE token_hash = $1`
)

// queueSessions queues the session changes of the batch's ops, in the order
// the ops were queued, with callbacks that give each op its result.
func (b *batch) queueSessions(q *pgx.Batch) {
	swept := false
	for _, o := range b.ops {
		switch o.kind {
		case opCreateSession:
			if !swept {
				swept = true
				q.Queue(sweepExpired, b.at, sweepBatch)
			}
			q.Queue(upsertSession, o.tokenHash, o.nick, parley.NickKey(o.nick), b.at, stamp(b.at.Add(o.ttl))).
				QueryRow(func(row pgx.Row) error {
					var stored bool
					err := row.Scan(&stored)
					switch {
					case errors.Is(err, pgx.ErrNoRows):
						o.err = parley.ErrNicknameTaken(o.nick)
					case err != nil:
						return fmt.Errorf("create session of %q: %w", o.nick, err)
					}
					return nil
				})
		case opExtendSession:
			q.Queue(updateSession, stamp(b.at.Add(o.ttl)), o.tokenHash, b.at).Exec(func(tag pgconn.CommandTag) error {
				if tag.RowsAffected() == 0 {
					o.err = parley.ErrInvalidSession()
				}
				return nil
			})
		case opEndSession:
			q.Queue(deleteSession, o.tokenHash)
		}
	}
}

// CreateSession starts a session for nick that lasts ttl and returns its
// token. It returns Invalid for a bad nickname and Conflict when a session
// that has not expired holds the nickname.
func (db *DB) CreateSession(ctx context.Context, nick string, ttl time.Duration) (string, error) {
	if err := parley.ValidateNick(nick); err != nil {
		return "", err
	}
	token := parley.NewToken()
	o := &op{kind: opCreateSession, nick: nick, tokenHash: parley.HashToken(token), ttl: ttl}
	if err := db.submit(ctx, parley.NickKey(nick), o); err != nil {
		return "", err
	}
	return token, nil
}

// Session returns the session of token, or Unauthenticated when there is
// none or it has expired.
func (db *DB) Session(ctx context.Context, token string) (*parley.Session, error) {
	if db.isClosed() {
		return nil, ErrClosed
	}
	s := &parley.Session{}
	err := db.read.QueryRow(ctx, `
		SELECT nick, created_at, expires_at
		FROM sessions
		WHERE token_hash = $1 AND expires_at > $2`, parley.HashToken(token), stamp(db.now())).
		Scan(&s.Nick, &s.CreatedAt, &s.ExpiresAt)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, parley.ErrInvalidSession()
	case err != nil:
		return nil, fmt.Errorf("read session: %w", err)
	}
	s.CreatedAt, s.ExpiresAt = s.CreatedAt.UTC(), s.ExpiresAt.UTC()
	return s, nil
}

// ExtendSession makes token's session last ttl from now, or returns
// Unauthenticated when there is none or it has expired.
func (db *DB) ExtendSession(ctx context.Context, token string, ttl time.Duration) error {
	hash := parley.HashToken(token)
	return db.submit(ctx, hash, &op{kind: opExtendSession, tokenHash: hash, ttl: ttl})
}

// EndSession ends token's session, if there is one.
func (db *DB) EndSession(ctx context.Context, token string) error {
	hash := parley.HashToken(token)
	return db.submit(ctx, hash, &op{kind: opEndSession, tokenHash: hash})
}
