-- migrator:no-transaction
-- A partitioned table: an invalid index on the parent only, each partition's index built
-- concurrently, then attached. The parent's index becomes valid with the last attach.
CREATE INDEX IF NOT EXISTS audit_events_org_time ON ONLY audit_events (organization_id, happened_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS audit_events_2026_org_time
    ON audit_events_2026 (organization_id, happened_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS audit_events_default_org_time
    ON audit_events_default (organization_id, happened_at);
ALTER INDEX audit_events_org_time ATTACH PARTITION audit_events_2026_org_time;
ALTER INDEX audit_events_org_time ATTACH PARTITION audit_events_default_org_time;
