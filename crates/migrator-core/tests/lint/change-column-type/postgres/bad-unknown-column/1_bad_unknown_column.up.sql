-- The table predates these migrations: its current type is unknown.
ALTER TABLE accounts ALTER COLUMN balance TYPE numeric(20,4);
