CREATE TABLE tags (
    name TEXT PRIMARY KEY,
    color TEXT NOT NULL DEFAULT 'grey'
) WITHOUT ROWID;
CREATE TABLE note_tags (
    note_id INTEGER NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
    tag TEXT NOT NULL REFERENCES tags (name) ON UPDATE CASCADE,
    PRIMARY KEY (note_id, tag)
) WITHOUT ROWID;
INSERT INTO tags (name, color) VALUES ('todo', 'red'), ('idea', 'yellow'), ('done; for real', 'green');
