-- People's sessions: whoever presents a session's token is the person called
-- nick until expires_at. Only the token's hash is kept (parley.HashToken).
-- nick_key (parley.NickKey) makes a nickname belong to one session at a time.

CREATE TABLE sessions (
	token_hash TEXT    PRIMARY KEY,
	nick       TEXT    NOT NULL,
	nick_key   TEXT    NOT NULL UNIQUE,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Expired sessions are swept a few at a time as new ones are made.
CREATE INDEX sessions_expires_at ON sessions (expires_at);
