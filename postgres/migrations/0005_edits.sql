-- Edits and deletions of messages: entries of their own (kind 'edit' and
-- 'delete') whose target is the sequence number of the message they change.
-- The message's row holds its current state, so that a page of history
-- needs no other row: its latest text and the number of the edit that set
-- it (edited), or no text and the number of its deletion (deleted), which
-- also removes the text of its edits. Client ids are unique per room and
-- sender across messages, edits and deletions.

ALTER TABLE entries DROP CONSTRAINT entries_kind_check;
ALTER TABLE entries ADD CONSTRAINT entries_kind_check
	CHECK (kind IN ('message', 'join', 'leave', 'edit', 'delete'));

ALTER TABLE entries
	ADD COLUMN target  bigint NOT NULL DEFAULT 0,
	ADD COLUMN edited  bigint NOT NULL DEFAULT 0,
	ADD COLUMN deleted bigint NOT NULL DEFAULT 0;

-- A retried send, edit or deletion finds the entry it already stored.
DROP INDEX entries_client_id;
CREATE UNIQUE INDEX entries_client_id ON entries (room_id, sender, client_id)
	WHERE client_id <> '';

-- A deletion finds the edits of its message.
CREATE INDEX entries_target ON entries (room_id, target)
	WHERE kind = 'edit';
