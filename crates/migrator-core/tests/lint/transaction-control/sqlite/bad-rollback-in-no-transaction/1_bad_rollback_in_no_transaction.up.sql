-- migrator:no-transaction
ALTER TABLE users ADD COLUMN bio TEXT;
ROLLBACK;
