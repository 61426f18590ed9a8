WITH stale AS (SELECT id FROM sessions WHERE expires_at < now())
UPDATE users SET last_seen_at = NULL;
