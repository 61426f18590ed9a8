-- migrator:irreversible -- the dropped values are not kept
-- migrator:phase contract
ALTER TABLE users DROP COLUMN legacy;
