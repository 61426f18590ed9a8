ALTER TABLE users ADD COLUMN display_name text;
UPDATE users SET display_name = full_name WHERE full_name IS NOT NULL;

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
