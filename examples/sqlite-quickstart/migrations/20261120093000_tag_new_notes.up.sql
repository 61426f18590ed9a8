-- Every new note starts tagged `inbox`; the trigger's body holds its own `;`.
CREATE TRIGGER notes_inbox AFTER INSERT ON notes
BEGIN
    INSERT INTO tags (note_id, tag) VALUES (NEW.id, 'inbox');
END;
