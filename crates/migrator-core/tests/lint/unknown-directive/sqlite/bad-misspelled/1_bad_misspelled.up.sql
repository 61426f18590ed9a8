-- migrator:no-transactoin
VACUUM;
