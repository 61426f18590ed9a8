DROP FUNCTION notify_due_soon(interval);
