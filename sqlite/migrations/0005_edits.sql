-- Edits and deletions of messages: entries of their own (kind 'edit' and
-- 'delete') whose target is the sequence number of the message they change.
-- The message's row holds its current state, so that a page of history
-- needs no other row: its latest text and the number of the edit that set
-- it (edited), or no text and the number of its deletion (deleted), which
-- also removes the text of its edits. Client ids are unique per room and
-- sender across messages, edits and deletions. SQLite cannot change a
-- CHECK constraint, so the table is made again.

CREATE TABLE entries_new (
	id        INTEGER PRIMARY KEY,
	room_id   INTEGER NOT NULL REFERENCES rooms (id),
	seq       INTEGER NOT NULL,
	kind      TEXT    NOT NULL CHECK (kind IN ('message', 'join', 'leave', 'edit', 'delete')),
	sender    TEXT    NOT NULL,
	text      TEXT    NOT NULL DEFAULT '',
	client_id TEXT    NOT NULL DEFAULT '',
	at        INTEGER NOT NULL,
	target    INTEGER NOT NULL DEFAULT 0,
	edited    INTEGER NOT NULL DEFAULT 0,
	deleted   INTEGER NOT NULL DEFAULT 0,
	UNIQUE (room_id, seq)
) STRICT;

INSERT INTO entries_new (id, room_id, seq, kind, sender, text, client_id, at)
SELECT id, room_id, seq, kind, sender, text, client_id, at
FROM entries;

DROP TABLE entries;
ALTER TABLE entries_new RENAME TO entries;

-- A retried send, edit or deletion finds the entry it already stored.
CREATE UNIQUE INDEX entries_client_id ON entries (room_id, sender, client_id)
	WHERE client_id <> '';

-- A deletion finds the edits of its message.
CREATE INDEX entries_target ON entries (room_id, target)
	WHERE kind = 'edit';
