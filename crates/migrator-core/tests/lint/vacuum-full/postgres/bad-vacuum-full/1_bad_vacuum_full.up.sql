-- migrator:no-transaction
VACUUM FULL users;
