-- migrator:no-transaction
DROP INDEX CONCURRENTLY IF EXISTS audit_events_2026_org_time;
