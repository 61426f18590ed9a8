-- Built without blocking writes: CONCURRENTLY cannot run in a transaction.
-- migrator:no-transaction
CREATE INDEX CONCURRENTLY notes_created_at ON notes (created_at);
