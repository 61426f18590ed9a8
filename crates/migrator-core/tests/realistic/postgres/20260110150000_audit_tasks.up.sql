CREATE FUNCTION audit_task_change() RETURNS trigger
LANGUAGE plpgsql AS $audit$
DECLARE
    org bigint;
BEGIN
    -- Runs inside the caller's transaction: never COMMIT or ROLLBACK here.
    SELECT p.organization_id INTO org
    FROM projects p
    WHERE p.id = COALESCE(NEW.project_id, OLD.project_id);
    IF TG_OP = 'DELETE' THEN
        INSERT INTO audit_events (organization_id, action, detail)
        VALUES (org, 'task.deleted', jsonb_build_object('id', OLD.id));
        RETURN OLD;
    ELSE
        INSERT INTO audit_events (organization_id, action, detail)
        VALUES (org, 'task.' || lower(TG_OP), to_jsonb(NEW));
        RETURN NEW;
    END IF;
END
$audit$;

CREATE TRIGGER tasks_audit
    AFTER INSERT OR UPDATE OR DELETE ON tasks
    FOR EACH ROW EXECUTE FUNCTION audit_task_change();
