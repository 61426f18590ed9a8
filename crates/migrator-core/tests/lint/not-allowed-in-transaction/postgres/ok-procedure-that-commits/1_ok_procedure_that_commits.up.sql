-- Creating a procedure that commits is fine; only running it in a transaction is not.
CREATE PROCEDURE purge_sessions() LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM sessions WHERE expires_at < now();
  COMMIT;
END $$;
