-- migrator:no-transaction
DROP INDEX CONCURRENTLY IF EXISTS tasks_project_id;
