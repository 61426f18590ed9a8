-- migrator:no-transaction
VACUUM (ANALYZE, FULL false) users;
