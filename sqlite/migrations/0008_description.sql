-- A room's description: what it is for, its rules; longer than its topic.

ALTER TABLE rooms ADD COLUMN description TEXT NOT NULL DEFAULT '';
