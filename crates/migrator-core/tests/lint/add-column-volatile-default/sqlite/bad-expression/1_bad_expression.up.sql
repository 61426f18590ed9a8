ALTER TABLE users ADD COLUMN token TEXT DEFAULT (hex(randomblob(16)));
