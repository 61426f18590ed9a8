DELETE FROM notebooks WHERE title = 'Inbox' AND NOT EXISTS (SELECT 1 FROM notes WHERE notes.notebook_id = notebooks.id);
