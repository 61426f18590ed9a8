-- migrator:phase contract
ALTER TABLE users DROP COLUMN legacy;
