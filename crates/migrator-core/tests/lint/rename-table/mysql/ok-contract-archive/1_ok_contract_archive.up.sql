-- migrator:phase contract
RENAME TABLE sessions TO sessions_archive_2026;
