-- PostgreSQL cannot build this CONCURRENTLY: the way is ON ONLY, each partition, attach.
CREATE INDEX events_kind ON events (kind);
