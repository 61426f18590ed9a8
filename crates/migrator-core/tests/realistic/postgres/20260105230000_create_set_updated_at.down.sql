DROP TRIGGER users_set_updated_at ON users;
DROP FUNCTION set_updated_at();
