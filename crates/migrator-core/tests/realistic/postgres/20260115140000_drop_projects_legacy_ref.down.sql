ALTER TABLE projects ADD COLUMN legacy_ref text;
