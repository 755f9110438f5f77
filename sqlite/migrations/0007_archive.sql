-- Archived rooms: archived_at is when a room was archived (Unix
-- milliseconds, UTC), NULL while it is not. An archived room is read as
-- any other, and takes no message, edit or deletion.

ALTER TABLE rooms ADD COLUMN archived_at INTEGER;
