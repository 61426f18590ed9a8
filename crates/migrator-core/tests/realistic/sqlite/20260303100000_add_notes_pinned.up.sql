ALTER TABLE notes ADD pinned INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1));
CREATE INDEX notes_pinned ON notes (notebook_id) WHERE pinned = 1;
