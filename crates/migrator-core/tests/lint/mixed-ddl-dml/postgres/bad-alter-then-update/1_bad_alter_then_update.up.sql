ALTER TABLE users ADD COLUMN locale text;
UPDATE users SET locale = 'en' WHERE id <= 1000;
