INSERT INTO settings (name) VALUES ('oops);
