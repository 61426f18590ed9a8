-- A nullable column at the end: instant, no table copy.
ALTER TABLE orders ADD COLUMN note TEXT NULL, ALGORITHM=INSTANT;
