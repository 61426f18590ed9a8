-- An SQL-standard body: BEGIN ATOMIC ... END is one statement with the CREATE.
CREATE FUNCTION task_is_overdue(due date, state task_status) RETURNS boolean
LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT due < current_date AND state <> 'done';
END;

CREATE PROCEDURE purge_old_comments(cutoff timestamptz)
LANGUAGE sql
BEGIN ATOMIC
    DELETE FROM comments WHERE created_at < cutoff;
    UPDATE tasks SET updated_at = now() WHERE id NOT IN (SELECT task_id FROM comments);
END;
