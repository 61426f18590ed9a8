-- migrator:phase contract
DROP TABLE IF EXISTS legacy_sessions;
