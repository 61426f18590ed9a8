-- migrator:allow drop-column -- nothing reads it since v41
ALTER TABLE users DROP COLUMN legacy;
