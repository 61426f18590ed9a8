-- migrator:no-transaction
DROP INDEX CONCURRENTLY notes_created_at;
