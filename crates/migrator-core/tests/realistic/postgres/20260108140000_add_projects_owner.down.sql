ALTER TABLE projects DROP COLUMN owner_id;
