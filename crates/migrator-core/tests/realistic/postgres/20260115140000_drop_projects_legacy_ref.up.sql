-- migrator:phase contract
-- The app stopped reading legacy_ref two releases ago.
ALTER TABLE projects DROP COLUMN legacy_ref;
