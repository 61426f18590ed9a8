DROP TRIGGER notebooks_activity;
DROP TRIGGER activity_kind_known;
DROP TABLE activity;
