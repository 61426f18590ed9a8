-- migrator:no-transaction
ALTER TABLE users ADD COLUMN bio text;
ROLLBACK;
