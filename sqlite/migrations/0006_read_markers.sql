-- Read markers: how far each person has read each room, the sequence
-- number of the last entry read. nick_key (parley.NickKey) is the person,
-- so a marker follows them across sessions, tabs and devices. A marker
-- only ever moves forward.

CREATE TABLE read_markers (
	nick_key TEXT    NOT NULL,
	room_id  INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
	seq      INTEGER NOT NULL,
	PRIMARY KEY (nick_key, room_id)
) STRICT, WITHOUT ROWID;
