-- Bracket and backtick quoting, as some SQLite tools write them.
CREATE TABLE [notes] (
    [id] INTEGER PRIMARY KEY,
    [notebook_id] INTEGER NOT NULL REFERENCES notebooks (id) ON DELETE CASCADE,
    `body` TEXT NOT NULL DEFAULT '',
    [updated_at] TEXT,
    [word_count] INTEGER GENERATED ALWAYS AS (length(body) - length(replace(body, ' ', '')) + 1) VIRTUAL
);
CREATE INDEX [notes_notebook] ON [notes] ([notebook_id], [updated_at] DESC);
