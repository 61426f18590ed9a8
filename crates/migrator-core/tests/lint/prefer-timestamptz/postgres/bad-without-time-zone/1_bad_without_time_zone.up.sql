ALTER TABLE events ADD COLUMN seen_at timestamp(3) without time zone;
