-- Room kinds: public rooms are open to all; private and direct rooms to
-- the accounts in room_access only. title and topic are texts for people;
-- owner is the account that made a private room.

ALTER TABLE rooms ADD COLUMN kind TEXT NOT NULL DEFAULT 'public'
	CHECK (kind IN ('public', 'private', 'direct'));
ALTER TABLE rooms ADD COLUMN title TEXT NOT NULL DEFAULT '';
ALTER TABLE rooms ADD COLUMN topic TEXT NOT NULL DEFAULT '';
ALTER TABLE rooms ADD COLUMN owner TEXT NOT NULL DEFAULT '';

CREATE TABLE room_access (
	room_id  INTEGER NOT NULL REFERENCES rooms (id),
	name_key TEXT    NOT NULL,
	name     TEXT    NOT NULL,
	role     TEXT    NOT NULL CHECK (role IN ('owner', 'member')),
	PRIMARY KEY (room_id, name_key)
) STRICT, WITHOUT ROWID;

-- A person's rooms, for the rooms they may see.
CREATE INDEX room_access_name_key ON room_access (name_key, room_id);
