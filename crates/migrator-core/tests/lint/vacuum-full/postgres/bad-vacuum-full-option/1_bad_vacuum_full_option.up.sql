-- migrator:no-transaction
VACUUM (FULL, ANALYZE) orders;
