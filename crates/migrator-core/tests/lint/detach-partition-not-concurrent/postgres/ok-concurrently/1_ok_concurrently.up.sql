-- migrator:no-transaction
ALTER TABLE events DETACH PARTITION events_2024 CONCURRENTLY;
