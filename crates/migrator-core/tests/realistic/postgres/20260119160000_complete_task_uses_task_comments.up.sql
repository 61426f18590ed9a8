-- complete_task writes to the renamed table before the old name goes; completed_at is the
-- trigger's job now.
CREATE OR REPLACE FUNCTION complete_task(task bigint, author bigint) RETURNS void
LANGUAGE plpgsql AS $body$
DECLARE
    commit_note text := 'completed; no COMMIT; no ROLLBACK: the caller owns the transaction';
BEGIN
    UPDATE tasks SET status = 'done' WHERE id = task;
    BEGIN
        INSERT INTO task_comments (task_id, author_id, body) VALUES (task, author, commit_note);
    EXCEPTION WHEN foreign_key_violation THEN
        RAISE NOTICE 'task % or author % is gone', task, author;
    END;
END
$body$;
