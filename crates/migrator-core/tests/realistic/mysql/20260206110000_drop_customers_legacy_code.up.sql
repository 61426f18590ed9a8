-- migrator:phase contract
-- Nothing has read legacy_code since the import finished.
ALTER TABLE customers DROP COLUMN legacy_code, ALGORITHM=INPLACE, LOCK=NONE;
