-- migrator:no-transaction
VACUUM (ANALYZE) users;
DO $$
BEGIN
  UPDATE settings SET value = 'on' WHERE key = 'x';
  COMMIT;
END $$;
CALL purge_sessions(1000);
