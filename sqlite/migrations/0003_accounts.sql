-- Accounts: people who sign in with a password, and keep their name.
-- name_key (parley.NickKey) is the namespace that accounts and guests'
-- sessions share. deactivated_at is NULL for an active account.

CREATE TABLE accounts (
	name_key       TEXT    PRIMARY KEY,
	name           TEXT    NOT NULL,
	display_name   TEXT    NOT NULL,
	password_hash  TEXT    NOT NULL,
	admin          INTEGER NOT NULL,
	created_at     INTEGER NOT NULL,
	deactivated_at INTEGER
) STRICT, WITHOUT ROWID;

-- Sessions are a guest's, an account's (a browser's) or an account's bearer
-- token (kind). An account has many; a guest's nickname belongs to one
-- session at a time. The keys of existing sessions are made again in Go
-- (rekeySessions), since parley.NickKey changed: until then each holds its
-- token's hash, which no name's key equals.

CREATE TABLE sessions_new (
	token_hash TEXT    PRIMARY KEY,
	nick       TEXT    NOT NULL,
	nick_key   TEXT    NOT NULL,
	kind       TEXT    NOT NULL CHECK (kind IN ('guest', 'account', 'token')),
	label      TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

INSERT INTO sessions_new (token_hash, nick, nick_key, kind, label, created_at, expires_at)
SELECT token_hash, nick, token_hash, 'guest', '', created_at, expires_at
FROM sessions;

DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;

CREATE INDEX sessions_expires_at ON sessions (expires_at);
CREATE UNIQUE INDEX sessions_guest_nick_key ON sessions (nick_key) WHERE kind = 'guest';
CREATE INDEX sessions_nick_key ON sessions (nick_key, created_at);
