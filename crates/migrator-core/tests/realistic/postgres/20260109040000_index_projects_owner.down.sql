-- migrator:no-transaction
DROP INDEX CONCURRENTLY IF EXISTS projects_owner_id;
