START TRANSACTION;
INSERT INTO settings (name, value) VALUES ('theme', 'dark');
COMMIT;
