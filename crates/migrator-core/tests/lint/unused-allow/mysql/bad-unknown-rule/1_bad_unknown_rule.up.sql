-- migrator:allow drop-colum -- typo
ALTER TABLE users DROP COLUMN legacy;
