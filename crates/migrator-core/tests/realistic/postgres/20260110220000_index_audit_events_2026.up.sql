-- migrator:no-transaction
-- A partitioned table: each partition's index is built concurrently (this one and the next
-- migration), then an index on the parent only takes them over (the one after).
CREATE INDEX CONCURRENTLY IF NOT EXISTS audit_events_2026_org_time
    ON audit_events_2026 (organization_id, happened_at);
