package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/parley-chat/parley"
)

// Sessions and accounts are read on the read pool and written, like
// everything else, by the writers: a session is created for every guest's
// first hello, so those writes share the commits of the chat traffic.
//
// Account names and guests' nicknames are one namespace under
// parley.NickKey, kept in two tables: accounts (name_key unique) and
// sessions (nick_key unique among guests' sessions). No index spans the
// two, so a transaction that claims a name, for a guest's session or a new
// account, first takes a transaction-scoped advisory lock on a hash of the
// name's key, then looks in the other table, then inserts. Two claims of
// one name, on any replicas, so run one after the other, and the second
// sees what the first committed: one of them wins. (The lock is taken
// before the looks because, under read committed, each statement sees what
// was committed before it began, and the lock's holder commits before the
// lock is released.) A transaction takes its name locks after its rooms'
// row locks and in the order of their hashes, so two transactions never
// wait for each other in a circle; two names that share a hash only wait
// for each other. The alternatives were a table of names, one row for each
// claimed name, which every session's end and expiry would have to keep in
// step, and routing claims to the writer of their key, which meets only
// the claims of one replica (claims do go there too, so that one
// replica's claims of one name meet in one queue, and mostly in one
// transaction, where the statements' order decides).

// nameLockClass is the first half of the two-key advisory locks on names
// ("name" in ASCII): pg_advisory_xact_lock(int, int) locks are apart from
// the one-key lock of the migrations whatever the second half.
const nameLockClass int32 = 0x6e616d65

// nameLock returns the second half of the advisory lock on the name whose
// NickKey is key.
func nameLock(key string) int32 {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int32(h.Sum32())
}

// sweepBatch is how many expired sessions a transaction that creates
// sessions sweeps away, at most: a commit holds at most one sweep, so the
// table holds about the sessions that last, and a storm of new sessions
// pays for one sweep a commit, not one each.
const sweepBatch = 16

const (
	lockName = `SELECT pg_advisory_xact_lock($1, $2)`
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
	// upsertSession stores a new guest's session unless an account or a
	// guest's session that has not expired holds the name; an expired one
	// is replaced. It returns a row only when it stored the session.
	upsertSession = `
		INSERT INTO sessions (token_hash, nick, nick_key, kind, created_at, expires_at)
		SELECT $1, $2, $3, 'guest', $4, $5
		WHERE NOT EXISTS (SELECT 1 FROM accounts WHERE name_key = $3)
		ON CONFLICT (nick_key) WHERE kind = 'guest' DO UPDATE
		SET token_hash = excluded.token_hash, nick = excluded.nick, label = '',
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
	// deleteExpiredGuest ends the guest's session that holds a name
	// after it has expired. It is a statement of its own, before
	// insertAccount, so that insertAccount sees a session that another
	// transaction extended while this one waited for its row.
	deleteExpiredGuest = `
		DELETE FROM sessions
		WHERE kind = 'guest' AND nick_key = $1 AND expires_at <= $2`
	// insertAccount stores a new account unless an account or a guest's
	// session that has not expired holds the name. It returns a row only
	// when it stored the account.
	insertAccount = `
		INSERT INTO accounts (name, name_key, display_name, password_hash, admin, created_at)
		SELECT $1, $2, $3, $4, $5, $6
		WHERE NOT EXISTS (
			SELECT 1 FROM sessions
			WHERE kind = 'guest' AND nick_key = $2 AND expires_at > $6)
		ON CONFLICT (name_key) DO NOTHING
		RETURNING true`
	// updateAccount changes what is not NULL of $2 to $5. A deactivated
	// account keeps the time it was first deactivated.
	updateAccount = `
		UPDATE accounts
		SET display_name = coalesce($2, display_name),
			password_hash = coalesce($3, password_hash),
			admin = coalesce($4, admin),
			deactivated_at = CASE
				WHEN $5::boolean IS NULL THEN deactivated_at
				WHEN $5 THEN NULL
				ELSE coalesce(deactivated_at, $6)
			END
		WHERE name_key = $1
		RETURNING true`
	// endAccountSessions ends an account's sessions but one, and returns
	// the IDs of those ended and whether each was live.
	endAccountSessions = `
		DELETE FROM sessions
		WHERE nick_key = $1 AND kind <> 'guest' AND token_hash <> $2
		RETURNING token_hash, expires_at > $3`
	// insertAccountSession stores a session of an active account. It locks
	// the account's row (FOR SHARE) so that a deactivation waits for it,
	// and then ends it, or it waits for the deactivation, and then finds
	// the account deactivated. It returns a row only when it stored the
	// session.
	insertAccountSession = `
		INSERT INTO sessions (token_hash, nick, nick_key, kind, label, created_at, expires_at)
		SELECT $1, name, name_key, $3, $4, $5, $6
		FROM accounts
		WHERE name_key = $2 AND deactivated_at IS NULL
		FOR SHARE
		RETURNING true`
	endAccountSession = `
		DELETE FROM sessions
		WHERE token_hash = $1 AND nick_key = $2 AND kind <> 'guest' AND expires_at > $3`
)

// queueSessions queues the session and account changes of the batch's ops,
// in the order the ops were queued, with callbacks that give each op its
// result. Before them it locks the names that the ops claim.
func (b *batch) queueSessions(q *pgx.Batch) {
	var locks []int32
	for _, o := range b.ops {
		switch o.kind {
		case opCreateSession, opCreateAccount:
			if l := nameLock(o.key); !slices.Contains(locks, l) {
				locks = append(locks, l)
			}
		}
	}
	slices.Sort(locks)
	for _, l := range locks {
		q.Queue(lockName, nameLockClass, l)
	}

	swept := false
	for _, o := range b.ops {
		switch o.kind {
		case opCreateSession:
			if !swept {
				swept = true
				q.Queue(sweepExpired, b.at, sweepBatch)
			}
			q.Queue(upsertSession, o.tokenHash, o.nick, o.key, b.at, stamp(b.at.Add(o.ttl))).
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
		case opCreateAccount:
			a := o.account
			q.Queue(deleteExpiredGuest, o.key, b.at)
			q.Queue(insertAccount, a.Name, o.key, a.DisplayName, a.PasswordHash, a.Admin, b.at).
				QueryRow(func(row pgx.Row) error {
					var stored bool
					err := row.Scan(&stored)
					switch {
					case errors.Is(err, pgx.ErrNoRows):
						o.err = parley.ErrNicknameTaken(a.Name)
					case err != nil:
						return fmt.Errorf("create account %q: %w", a.Name, err)
					default:
						o.at = b.at
					}
					return nil
				})
		case opUpdateAccount:
			u := o.update
			q.Queue(updateAccount, o.key, u.DisplayName, u.PasswordHash, u.Admin, u.Active, b.at).
				QueryRow(func(row pgx.Row) error {
					var found bool
					err := row.Scan(&found)
					switch {
					case errors.Is(err, pgx.ErrNoRows):
						o.err = parley.ErrNoAccount(o.nick)
					case err != nil:
						return fmt.Errorf("update account %q: %w", o.nick, err)
					}
					return nil
				})
			if u.PasswordHash == nil && (u.Active == nil || *u.Active) {
				continue
			}
			q.Queue(endAccountSessions, o.key, u.Keep, b.at).Query(func(rows pgx.Rows) error {
				var id string
				var live bool
				_, err := pgx.ForEachRow(rows, []any{&id, &live}, func() error {
					if live {
						o.ended = append(o.ended, id)
					}
					return nil
				})
				if err != nil {
					return fmt.Errorf("end sessions of account %q: %w", o.nick, err)
				}
				return nil
			})
		case opCreateAccountSession:
			q.Queue(insertAccountSession, o.tokenHash, o.key, string(o.sessKind), o.label, b.at, stamp(b.at.Add(o.ttl))).
				QueryRow(func(row pgx.Row) error {
					var stored bool
					err := row.Scan(&stored)
					switch {
					case errors.Is(err, pgx.ErrNoRows):
						o.err = parley.ErrNoAccount(o.nick)
					case err != nil:
						return fmt.Errorf("create session of account %q: %w", o.nick, err)
					}
					return nil
				})
		case opEndAccountSession:
			q.Queue(endAccountSession, o.tokenHash, o.key, b.at).Exec(func(tag pgconn.CommandTag) error {
				if tag.RowsAffected() == 0 {
					o.err = errNoSession()
				}
				return nil
			})
		}
	}
}

func errNoSession() error {
	return parley.Errorf(parley.NotFound, "There is no such session.")
}

// CreateSession starts a guest's session for nick that lasts ttl and
// returns its token. It returns Invalid for a bad nickname and Conflict
// when an account, or a guest's session that has not expired, holds a name
// with the same parley.NickKey.
func (db *DB) CreateSession(ctx context.Context, nick string, ttl time.Duration) (string, error) {
	if err := parley.ValidateNick(nick); err != nil {
		return "", err
	}
	token := parley.NewToken()
	key := parley.NickKey(nick)
	o := &op{kind: opCreateSession, nick: nick, key: key, tokenHash: parley.HashToken(token), ttl: ttl}
	if err := db.submit(ctx, key, o); err != nil {
		return "", err
	}
	return token, nil
}

// Session returns the session of token, with Admin set from its account,
// or Unauthenticated when there is none, it has expired, or its account is
// deactivated.
func (db *DB) Session(ctx context.Context, token string) (*parley.Session, error) {
	if db.isClosed() {
		return nil, ErrClosed
	}
	s := &parley.Session{ID: parley.HashToken(token)}
	err := db.read.QueryRow(ctx, `
		SELECT s.nick, s.kind, s.label, s.created_at, s.expires_at, coalesce(a.admin, false)
		FROM sessions s
		LEFT JOIN accounts a ON s.kind <> 'guest' AND a.name_key = s.nick_key
		WHERE s.token_hash = $1 AND s.expires_at > $2
			AND (s.kind = 'guest' OR (a.name_key IS NOT NULL AND a.deactivated_at IS NULL))`,
		s.ID, stamp(db.now())).
		Scan(&s.Nick, &s.Kind, &s.Label, &s.CreatedAt, &s.ExpiresAt, &s.Admin)
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
