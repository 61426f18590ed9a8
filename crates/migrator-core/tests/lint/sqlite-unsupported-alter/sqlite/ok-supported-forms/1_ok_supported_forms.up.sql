-- migrator:allow rename-column, rename-table, drop-column -- one-user desktop app, upgraded offline
ALTER TABLE users ADD COLUMN bio TEXT;
ALTER TABLE users RENAME COLUMN bio TO about;
ALTER TABLE users RENAME TO accounts;
ALTER TABLE accounts DROP COLUMN about;
ALTER TABLE accounts ADD total INTEGER AS (1 + 1);
