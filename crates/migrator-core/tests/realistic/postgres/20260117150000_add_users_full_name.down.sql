DROP TRIGGER users_sync_full_name ON users;
DROP FUNCTION sync_user_full_name();
ALTER TABLE users DROP COLUMN full_name;
