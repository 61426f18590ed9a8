-- Step 3: the validated check proves the column has no NULL, so there is no scan.
ALTER TABLE tasks ALTER COLUMN title SET NOT NULL;
ALTER TABLE tasks DROP CONSTRAINT tasks_title_not_null;
