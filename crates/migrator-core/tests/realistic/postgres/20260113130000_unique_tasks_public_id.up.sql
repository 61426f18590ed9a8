-- The index exists: the constraint takes it over without a scan.
ALTER TABLE tasks ADD CONSTRAINT tasks_public_id_key UNIQUE USING INDEX tasks_public_id_key;
