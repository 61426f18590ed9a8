DROP TRIGGER tasks_set_completed_at ON tasks;
DROP FUNCTION set_task_completed_at();
