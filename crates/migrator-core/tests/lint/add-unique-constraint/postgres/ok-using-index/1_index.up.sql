-- migrator:no-transaction
CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);
