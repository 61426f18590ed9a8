-- Whoever is given a task hears about it.
CREATE FUNCTION notify_assignee() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO notifications (user_id, kind, payload)
    VALUES (NEW.assignee_id, 'assignment', jsonb_build_object('task_id', NEW.id, 'title', NEW.title));
    RETURN NULL;
END
$fn$;

CREATE TRIGGER tasks_notify_assignee
    AFTER UPDATE OF assignee_id ON tasks
    FOR EACH ROW
    WHEN (NEW.assignee_id IS NOT NULL AND NEW.assignee_id IS DISTINCT FROM OLD.assignee_id)
    EXECUTE FUNCTION notify_assignee();
