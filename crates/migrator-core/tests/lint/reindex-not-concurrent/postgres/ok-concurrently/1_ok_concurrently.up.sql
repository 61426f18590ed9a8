-- migrator:no-transaction
REINDEX INDEX CONCURRENTLY users_email;
REINDEX (CONCURRENTLY) TABLE users;
