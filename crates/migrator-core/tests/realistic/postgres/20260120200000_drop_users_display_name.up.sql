-- migrator:phase contract
-- No running version reads display_name any more: the rename's last step.
DROP TRIGGER users_sync_full_name ON users;
DROP FUNCTION sync_user_full_name();
ALTER TABLE users DROP COLUMN display_name;
