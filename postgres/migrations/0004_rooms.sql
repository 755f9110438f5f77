-- Room kinds: public rooms are open to all; private and direct rooms to
-- the accounts in room_access only. title and topic are texts for people;
-- owner is the account that made a private room. A room's kind and owner
-- never change once it is made, so the writers read them without locks.

ALTER TABLE rooms
	ADD COLUMN kind text NOT NULL DEFAULT 'public' CHECK (kind IN ('public', 'private', 'direct')),
	ADD COLUMN title text NOT NULL DEFAULT '',
	ADD COLUMN topic text NOT NULL DEFAULT '',
	ADD COLUMN owner text NOT NULL DEFAULT '';

-- Who may see a private or direct room, under the parley.NickKey of their
-- account's name (byte-wise, as Go orders keys), with the name as it is.
CREATE TABLE room_access (
	room_id  bigint NOT NULL REFERENCES rooms (id),
	name_key text   COLLATE "C" NOT NULL,
	name     text   NOT NULL,
	role     text   NOT NULL CHECK (role IN ('owner', 'member')),
	PRIMARY KEY (room_id, name_key)
);

-- A person's rooms, for the rooms they may see.
CREATE INDEX room_access_name_key ON room_access (name_key, room_id);
