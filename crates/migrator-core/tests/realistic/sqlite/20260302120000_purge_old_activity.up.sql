-- migrator:phase contract
-- migrator:irreversible -- the old activity rows are not kept
DELETE FROM activity WHERE at < '2026-01-01';
DROP TABLE IF EXISTS activity_2025;
