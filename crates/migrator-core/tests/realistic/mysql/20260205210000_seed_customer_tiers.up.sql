-- migrator:irreversible -- the previous tiers are not kept
UPDATE customers SET tier = 1 WHERE created_at < '2026-01-01' AND id BETWEEN 1 AND 10000;
