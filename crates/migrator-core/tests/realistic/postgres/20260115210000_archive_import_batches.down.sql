ALTER TABLE import_batches_archive_2026 RENAME TO import_batches;
