CREATE TABLE activity (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TEMP TRIGGER IF NOT EXISTS activity_guard BEFORE DELETE ON activity
BEGIN
    SELECT RAISE(IGNORE);
END;
CREATE TRIGGER notebooks_activity AFTER INSERT ON notebooks
BEGIN
    INSERT INTO activity (account_id, kind) VALUES (NEW.account_id, 'notebook created');
END;
