-- migrator:no-transaction
-- tasks is busy by now: build the indexes without blocking writes.
CREATE INDEX CONCURRENTLY IF NOT EXISTS tasks_project_id ON tasks (project_id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS tasks_assignee_open ON tasks (assignee_id) WHERE status <> 'done';
