-- Step 2: the scan takes a lock that lets reads and writes go on.
ALTER TABLE tasks VALIDATE CONSTRAINT tasks_title_not_null;
