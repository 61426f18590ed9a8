-- Called by the scheduler every hour: one notification per task due within the horizon,
-- to its assignee, never twice for the same task.
CREATE FUNCTION notify_due_soon(horizon interval DEFAULT interval '1 day') RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
    created integer;
BEGIN
    INSERT INTO notifications (user_id, kind, payload)
    SELECT t.assignee_id, 'due_soon', jsonb_build_object('task_id', t.id, 'due_on', t.due_on)
    FROM tasks t
    WHERE t.assignee_id IS NOT NULL
      AND t.status <> 'done'
      AND t.due_on <= current_date + horizon
      AND NOT EXISTS (
          SELECT 1 FROM notifications n
          WHERE n.kind = 'due_soon'
            AND n.user_id = t.assignee_id
            AND (n.payload ->> 'task_id')::bigint = t.id
      );
    GET DIAGNOSTICS created = ROW_COUNT;
    RETURN created;
END
$fn$;
