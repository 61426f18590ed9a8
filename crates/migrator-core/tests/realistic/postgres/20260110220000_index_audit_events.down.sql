-- A partitioned index cannot be dropped concurrently; dropping it drops the partitions' too.
DROP INDEX IF EXISTS audit_events_org_time;
