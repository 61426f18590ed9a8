DROP TABLE IF EXISTS sessions, login_attempts;
