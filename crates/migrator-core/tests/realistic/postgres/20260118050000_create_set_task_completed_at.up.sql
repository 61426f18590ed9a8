-- completed_at follows status from now on, whoever changes it (the app, complete_task, an admin).
CREATE FUNCTION set_task_completed_at() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF NEW.status = 'done' AND OLD.status <> 'done' THEN
        NEW.completed_at := COALESCE(NEW.completed_at, now());
    ELSIF NEW.status <> 'done' AND OLD.status = 'done' THEN
        NEW.completed_at := NULL;
    END IF;
    RETURN NEW;
END
$fn$;

CREATE TRIGGER tasks_set_completed_at
    BEFORE UPDATE OF status ON tasks
    FOR EACH ROW
    WHEN (NEW.status IS DISTINCT FROM OLD.status)
    EXECUTE FUNCTION set_task_completed_at();
