-- migrator:no-transaction
-- Index notes by date, then give the pages freed by the rebuild back to the file system
-- (VACUUM cannot run inside a transaction).
CREATE INDEX notes_updated ON notes (updated_at);
VACUUM;
PRAGMA optimize;
