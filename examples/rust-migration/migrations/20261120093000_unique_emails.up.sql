-- Runs after the Rust backfill (version 20261120092000) made every address lowercase.
CREATE UNIQUE INDEX users_email ON users (email);
