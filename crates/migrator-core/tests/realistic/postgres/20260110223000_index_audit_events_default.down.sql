-- migrator:no-transaction
DROP INDEX CONCURRENTLY IF EXISTS audit_events_default_org_time;
