-- A partitioned index cannot be dropped concurrently, nor its partitions' indexes detached:
-- dropping it drops theirs too, so they are built again as the two migrations before left them.
DROP INDEX IF EXISTS audit_events_org_time;
CREATE INDEX audit_events_2026_org_time ON audit_events_2026 (organization_id, happened_at);
CREATE INDEX audit_events_default_org_time ON audit_events_default (organization_id, happened_at);
