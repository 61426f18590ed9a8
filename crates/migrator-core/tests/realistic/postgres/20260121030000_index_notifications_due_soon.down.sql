-- migrator:no-transaction
DROP INDEX CONCURRENTLY IF EXISTS notifications_due_soon;
