-- Keep updated_at current; the body's `;` and CASE … END stay inside the trigger.
CREATE TRIGGER notes_touch AFTER UPDATE OF body ON notes
FOR EACH ROW WHEN NEW.body IS NOT OLD.body
BEGIN
    UPDATE notes SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = NEW.id;
    SELECT CASE
        WHEN length(NEW.body) > 100000 THEN RAISE(ABORT, 'a note holds at most 100000 characters; split it')
        ELSE NULL
    END;
END;
