ALTER TABLE tasks DROP CONSTRAINT tasks_title_not_null;
ALTER TABLE tasks ADD CONSTRAINT tasks_title_not_null CHECK (title IS NOT NULL) NOT VALID;
