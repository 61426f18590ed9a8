-- migrator:allow index-not-concurrent -- small table
CREATE INDEX users_email ON users (email);
