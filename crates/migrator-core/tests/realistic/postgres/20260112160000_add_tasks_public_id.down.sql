ALTER TABLE tasks DROP COLUMN public_id;
