-- migrator:irreversible -- the previous migration's down drops the column with its values
-- The rows written before the trigger existed. A small table: one statement.
UPDATE users SET full_name = display_name WHERE full_name IS NULL AND display_name IS NOT NULL;
