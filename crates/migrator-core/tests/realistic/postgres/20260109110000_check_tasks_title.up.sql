-- Step 1 of making tasks.title NOT NULL without a long lock (PostgreSQL 12+).
ALTER TABLE tasks ADD CONSTRAINT tasks_title_not_null CHECK (title IS NOT NULL) NOT VALID;
