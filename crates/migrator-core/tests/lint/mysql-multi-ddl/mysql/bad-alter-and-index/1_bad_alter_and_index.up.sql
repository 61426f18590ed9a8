ALTER TABLE orders ADD COLUMN note TEXT, ALGORITHM=INSTANT;
CREATE INDEX orders_created_at ON orders (created_at);
