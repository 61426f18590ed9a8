CREATE TABLE activity (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
-- A scratch table for the seed below: TEMP objects live on the migrating connection only.
CREATE TEMP TABLE IF NOT EXISTS seed_kinds (kind TEXT);
INSERT INTO seed_kinds VALUES ('notebook created');
CREATE TRIGGER IF NOT EXISTS activity_kind_known BEFORE INSERT ON activity
WHEN NEW.kind NOT IN ('notebook created', 'note shared')
BEGIN
    SELECT RAISE(ABORT, 'unknown activity kind; add it to the trigger first');
END;
DROP TABLE temp.seed_kinds;
CREATE TRIGGER notebooks_activity AFTER INSERT ON notebooks
BEGIN
    INSERT INTO activity (account_id, kind) VALUES (NEW.account_id, 'notebook created');
END;
