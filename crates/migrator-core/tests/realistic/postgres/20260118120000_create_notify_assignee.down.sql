DROP TRIGGER tasks_notify_assignee ON tasks;
DROP FUNCTION notify_assignee();
