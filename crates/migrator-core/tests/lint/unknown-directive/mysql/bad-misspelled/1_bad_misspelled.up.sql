-- migrator:no-transactoin
SELECT 1;
