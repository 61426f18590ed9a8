-- migrator:irreversible -- PostgreSQL cannot remove a value from an enum
ALTER TYPE task_status ADD VALUE IF NOT EXISTS 'blocked' BEFORE 'done';
