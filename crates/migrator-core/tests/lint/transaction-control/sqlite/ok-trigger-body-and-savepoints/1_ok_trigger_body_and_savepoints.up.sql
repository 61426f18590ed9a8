CREATE TABLE audit_log (note TEXT);
CREATE TRIGGER users_audit AFTER UPDATE ON users
BEGIN
  INSERT INTO audit_log (note) VALUES ('BEGIN; COMMIT; END;');
END;
SAVEPOINT before_seed;
INSERT INTO audit_log (note) VALUES ('seed');
ROLLBACK TO before_seed;
RELEASE before_seed;
