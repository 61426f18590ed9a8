-- migrator:no-transaction
ALTER TABLE accounts DROP COLUMN locale;
