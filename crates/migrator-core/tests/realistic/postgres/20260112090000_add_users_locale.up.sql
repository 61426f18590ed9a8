-- A constant default: PostgreSQL 11+ stores it once, without rewriting the table.
ALTER TABLE users ADD COLUMN locale text NOT NULL DEFAULT 'en';
