INSERT INTO settings (name, value) VALUES ('theme', 'dark');
ALTER TABLE settings ADD COLUMN note VARCHAR(100);
