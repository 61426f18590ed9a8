-- now() is STABLE: PostgreSQL 11+ stores it once, without a rewrite.
ALTER TABLE orders ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
