-- migrator:phase contract
DROP TABLE sessions_archive;
