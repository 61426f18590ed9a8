-- migrator:no-transaction
-- migrator:lock-timeout 5s
CREATE INDEX CONCURRENTLY i ON t (id);
