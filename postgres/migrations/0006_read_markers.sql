-- Read markers: how far each person has read each room, the sequence
-- number of the last entry read. nick_key (parley.NickKey) is the person,
-- so a marker follows them across sessions, tabs, devices and replicas. A
-- marker only ever moves forward (read.go).

CREATE TABLE read_markers (
	nick_key text   COLLATE "C" NOT NULL,
	room_id  bigint NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
	seq      bigint NOT NULL,
	PRIMARY KEY (nick_key, room_id)
);
