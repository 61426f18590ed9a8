-- migrator:phase contract
ALTER TABLE sessions RENAME TO sessions_archive;
