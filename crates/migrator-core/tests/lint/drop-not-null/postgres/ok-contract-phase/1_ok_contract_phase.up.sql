-- migrator:phase contract
ALTER TABLE users ALTER COLUMN email DROP NOT NULL;
