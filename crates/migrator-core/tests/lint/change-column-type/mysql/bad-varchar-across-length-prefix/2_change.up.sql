-- 50 to 100 utf8mb4 characters: 200 to 400 bytes, a 1-byte to a 2-byte length prefix.
ALTER TABLE users MODIFY nickname VARCHAR(100);
