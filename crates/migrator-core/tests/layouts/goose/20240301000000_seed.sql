-- +goose up
-- migrator:irreversible -- the seed rows are not tracked
INSERT INTO users (id, email) VALUES (1, 'admin@example.com');
