DROP INDEX notes_updated;
