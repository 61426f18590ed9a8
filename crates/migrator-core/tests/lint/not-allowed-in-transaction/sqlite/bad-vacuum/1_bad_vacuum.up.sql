DELETE FROM sessions WHERE expires_at < '2026-01-01';
VACUUM;
