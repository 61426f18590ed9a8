CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
  -- COMMIT and ROLLBACK are words here, not statements of the migration.
  INSERT INTO audit_log (note) VALUES ('BEGIN; COMMIT;');
  RETURN NEW;
END
$body$;
SAVEPOINT before_seed;
ROLLBACK TO SAVEPOINT before_seed;
