-- The index on the parent only (ON ONLY: nothing is built, it starts invalid), then each
-- partition's index attached: with the last one the parent's index becomes valid. No scan,
-- so one transaction.
CREATE INDEX IF NOT EXISTS audit_events_org_time ON ONLY audit_events (organization_id, happened_at);
ALTER INDEX audit_events_org_time ATTACH PARTITION audit_events_2026_org_time;
ALTER INDEX audit_events_org_time ATTACH PARTITION audit_events_default_org_time;
