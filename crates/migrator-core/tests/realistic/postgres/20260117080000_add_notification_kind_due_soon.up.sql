-- migrator:irreversible -- PostgreSQL cannot remove a value from an enum
-- Allowed in a transaction since PostgreSQL 12; the value can be used once this commits.
ALTER TYPE notification_kind ADD VALUE IF NOT EXISTS 'due_soon' AFTER 'assignment';
