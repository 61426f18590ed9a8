-- The parent's index is built per partition, CONCURRENTLY, then attached.
CREATE INDEX events_at ON ONLY events (at);
