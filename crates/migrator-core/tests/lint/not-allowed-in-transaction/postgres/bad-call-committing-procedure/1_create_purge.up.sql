CREATE PROCEDURE purge_sessions(batch int) LANGUAGE plpgsql AS $$
BEGIN
  LOOP
    DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE expires_at < now() LIMIT batch);
    EXIT WHEN NOT FOUND;
    COMMIT;
  END LOOP;
END $$;
