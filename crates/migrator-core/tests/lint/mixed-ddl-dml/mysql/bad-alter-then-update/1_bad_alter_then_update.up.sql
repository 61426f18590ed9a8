ALTER TABLE users ADD COLUMN locale VARCHAR(100);
UPDATE users SET locale = 'en' WHERE id <= 1000;
