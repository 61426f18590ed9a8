DROP PROCEDURE purge_old_comments(timestamptz);
DROP FUNCTION task_is_overdue(date, task_status);
