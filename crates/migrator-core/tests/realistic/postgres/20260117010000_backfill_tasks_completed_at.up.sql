-- migrator:irreversible -- backfilled times cannot be told from recorded ones afterwards
-- Tasks done before completed_at existed: their last update is the best guess.
UPDATE tasks SET completed_at = updated_at WHERE status = 'done' AND completed_at IS NULL;
