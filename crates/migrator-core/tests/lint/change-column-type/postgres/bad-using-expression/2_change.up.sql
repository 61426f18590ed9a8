ALTER TABLE users ALTER COLUMN legacy TYPE jsonb USING legacy::jsonb;
