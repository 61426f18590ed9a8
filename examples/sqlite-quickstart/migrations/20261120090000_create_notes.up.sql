CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    body TEXT NOT NULL CHECK (length(body) > 0),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
