DROP INDEX IF EXISTS users_email, users_nickname CASCADE;
