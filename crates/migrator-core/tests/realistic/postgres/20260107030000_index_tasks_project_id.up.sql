-- migrator:no-transaction
-- tasks is busy by now: build the index without blocking writes. One statement per
-- no-transaction migration, so that every tool runs it as written (several statements sent
-- as one query run in one implicit transaction, where CONCURRENTLY is refused).
CREATE INDEX CONCURRENTLY IF NOT EXISTS tasks_project_id ON tasks (project_id);
