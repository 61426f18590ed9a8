DROP TRIGGER notes_inbox;
