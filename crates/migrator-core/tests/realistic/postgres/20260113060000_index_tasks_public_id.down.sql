-- migrator:no-transaction
DROP INDEX CONCURRENTLY IF EXISTS tasks_public_id_key;
