-- migrator:no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS tasks_assignee_open ON tasks (assignee_id) WHERE status <> 'done';
