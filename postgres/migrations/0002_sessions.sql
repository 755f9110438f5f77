-- People's sessions: whoever presents a session's token is the person called
-- nick until expires_at. Only the token's hash is kept (parley.HashToken).
-- nick_key (parley.NickKey) makes a nickname belong to one session at a time.

CREATE TABLE sessions (
	token_hash text        PRIMARY KEY,
	nick       text        NOT NULL,
	nick_key   text        NOT NULL UNIQUE,
	created_at timestamptz NOT NULL,
	expires_at timestamptz NOT NULL
);

-- Expired sessions are swept a few at a time as new ones are made.
CREATE INDEX sessions_expires_at ON sessions (expires_at);
