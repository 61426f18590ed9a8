-- migrator:no-transaction
-- migrator:lock-timeout 5s
-- migrator:statement-timeout 2min
SELECT 1;
