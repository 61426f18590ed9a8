-- migrator:no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS audit_events_default_org_time
    ON audit_events_default (organization_id, happened_at);
