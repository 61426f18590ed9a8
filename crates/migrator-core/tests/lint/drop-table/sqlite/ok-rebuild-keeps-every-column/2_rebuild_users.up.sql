-- SQLite cannot add NOT NULL to a column: rebuild the table.
CREATE TABLE users_new (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
INSERT INTO users_new (id, email) SELECT id, coalesce(email, '') FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE INDEX users_email ON users (email);
