-- migrator:allow drop-table -- cleaning up
ALTER TABLE users ADD COLUMN bio TEXT;
