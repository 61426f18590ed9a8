-- migrator:no-transaction
-- notify_due_soon looks for an earlier notification of the same task.
CREATE INDEX CONCURRENTLY IF NOT EXISTS notifications_due_soon
    ON notifications (user_id, ((payload ->> 'task_id')::bigint)) WHERE kind = 'due_soon';
