DROP TRIGGER tasks_audit ON tasks;
DROP FUNCTION audit_task_change();
