-- users.display_name becomes full_name without breaking the running version: the new column
-- is added and kept equal to the old one by a trigger while both versions run (expand); the
-- old column goes once no running version reads it (contract, later).
ALTER TABLE users ADD COLUMN full_name text;

CREATE FUNCTION sync_user_full_name() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.full_name := COALESCE(NEW.full_name, NEW.display_name);
        NEW.display_name := COALESCE(NEW.display_name, NEW.full_name);
    ELSIF NEW.display_name IS DISTINCT FROM OLD.display_name THEN
        NEW.full_name := NEW.display_name;
    ELSIF NEW.full_name IS DISTINCT FROM OLD.full_name THEN
        NEW.display_name := NEW.full_name;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER users_sync_full_name
    BEFORE INSERT OR UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION sync_user_full_name();
