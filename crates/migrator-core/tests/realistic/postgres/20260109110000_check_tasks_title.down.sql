ALTER TABLE tasks DROP CONSTRAINT tasks_title_not_null;
