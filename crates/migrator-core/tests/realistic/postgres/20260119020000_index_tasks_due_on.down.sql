-- migrator:no-transaction
DROP INDEX CONCURRENTLY IF EXISTS tasks_due_on_open;
