-- migrator:phase contract
ALTER TABLE import_batches RENAME TO import_batches_archive_2026;
