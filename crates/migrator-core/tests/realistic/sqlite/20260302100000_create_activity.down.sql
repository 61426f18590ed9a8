DROP TRIGGER notebooks_activity;
DROP TRIGGER IF EXISTS activity_guard;
DROP TABLE activity;
