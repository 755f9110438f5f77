-- Rooms, their logs and their members.

CREATE TABLE rooms (
	id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	-- Names compare and sort byte-wise, as Go compares strings, whatever
	-- the database's locale.
	name       text        COLLATE "C" NOT NULL UNIQUE,
	created_at timestamptz NOT NULL,
	-- last_seq is the sequence number of the room's newest entry. A writer
	-- locks the row, reads it and advances it in the transaction that
	-- appends, so numbers are gapless and ordered by commit, whichever
	-- replica appends.
	last_seq   bigint      NOT NULL DEFAULT 0
);

CREATE TABLE entries (
	room_id   bigint      NOT NULL REFERENCES rooms (id),
	seq       bigint      NOT NULL,
	kind      text        NOT NULL CHECK (kind IN ('message', 'join', 'leave')),
	sender    text        NOT NULL,
	text      text        NOT NULL DEFAULT '',
	client_id text        NOT NULL DEFAULT '',
	at        timestamptz NOT NULL,
	PRIMARY KEY (room_id, seq)
);

-- A retried send finds the message it already stored.
CREATE UNIQUE INDEX entries_client_id ON entries (room_id, sender, client_id)
	WHERE kind = 'message';

CREATE TABLE members (
	room_id bigint NOT NULL REFERENCES rooms (id),
	nick    text   COLLATE "C" NOT NULL,
	PRIMARY KEY (room_id, nick)
);
