-- migrator:no-transaction
-- The board sorts open tasks by due date.
CREATE INDEX CONCURRENTLY IF NOT EXISTS tasks_due_on_open ON tasks (due_on) WHERE status <> 'done';
