CREATE INDEX orders_status ON orders (status, created_at) ALGORITHM=INPLACE LOCK=NONE;
