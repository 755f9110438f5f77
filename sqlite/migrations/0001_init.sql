-- Rooms, their logs and their members. Times are Unix milliseconds, UTC.

CREATE TABLE rooms (
	id         INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL UNIQUE,
	created_at INTEGER NOT NULL,
	-- last_seq is the sequence number of the room's newest entry. The writer
	-- reads and advances it in the transaction that appends, so numbers are
	-- gapless and ordered by commit.
	last_seq   INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE entries (
	id        INTEGER PRIMARY KEY,
	room_id   INTEGER NOT NULL REFERENCES rooms (id),
	seq       INTEGER NOT NULL,
	kind      TEXT    NOT NULL CHECK (kind IN ('message', 'join', 'leave')),
	sender    TEXT    NOT NULL,
	text      TEXT    NOT NULL DEFAULT '',
	client_id TEXT    NOT NULL DEFAULT '',
	at        INTEGER NOT NULL,
	UNIQUE (room_id, seq)
) STRICT;

-- A retried send finds the message it already stored.
CREATE UNIQUE INDEX entries_client_id ON entries (room_id, sender, client_id)
	WHERE kind = 'message';

CREATE TABLE members (
	room_id INTEGER NOT NULL REFERENCES rooms (id),
	nick    TEXT    NOT NULL,
	PRIMARY KEY (room_id, nick)
) STRICT, WITHOUT ROWID;
