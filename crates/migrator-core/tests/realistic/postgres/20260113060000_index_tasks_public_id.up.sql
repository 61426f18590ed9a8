-- migrator:no-transaction
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS tasks_public_id_key ON tasks (public_id);
