-- Accounts, and the sessions of accounts beside those of guests.
--
-- Account names and guests' nicknames are one namespace under
-- parley.NickKey: name_key is unique among accounts, nick_key among guests'
-- sessions, and the writers keep one name from being both (session.go).
-- The migration step of this file in Go (migrate.go) then recomputes every
-- session's nick_key, which 0002 computed with an older NickKey, and makes
-- nick_key unique among guests' sessions.

CREATE TABLE accounts (
	name           text        NOT NULL,
	-- Keys compare and sort byte-wise, as Go compares strings, so that a
	-- copy pages through them as the other store does.
	name_key       text        COLLATE "C" PRIMARY KEY,
	display_name   text        NOT NULL DEFAULT '',
	password_hash  text        NOT NULL,
	admin          boolean     NOT NULL DEFAULT false,
	created_at     timestamptz NOT NULL,
	-- When the account was closed; NULL while it is active.
	deactivated_at timestamptz
);

-- An account has many sessions, all under its name's key: nick_key is
-- unique only among guests' sessions, and an account's sessions are
-- (nick, nick_key) of the account.
ALTER TABLE sessions
	ADD COLUMN kind text NOT NULL DEFAULT 'guest' CHECK (kind IN ('guest', 'account', 'token')),
	ADD COLUMN label text NOT NULL DEFAULT '',
	DROP CONSTRAINT sessions_nick_key_key;

-- An account's sessions, newest first.
CREATE INDEX sessions_account ON sessions (nick_key, created_at DESC)
	WHERE kind <> 'guest';
