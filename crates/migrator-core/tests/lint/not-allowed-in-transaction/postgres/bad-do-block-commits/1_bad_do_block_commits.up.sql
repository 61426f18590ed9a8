-- The batched-update loop of the practice guides: it commits between batches.
DO $$
DECLARE
  done bigint;
BEGIN
  LOOP
    UPDATE users SET email = lower(email)
    WHERE id IN (SELECT id FROM users WHERE email <> lower(email) LIMIT 1000);
    GET DIAGNOSTICS done = ROW_COUNT;
    EXIT WHEN done = 0;
    COMMIT;
  END LOOP;
END $$;
