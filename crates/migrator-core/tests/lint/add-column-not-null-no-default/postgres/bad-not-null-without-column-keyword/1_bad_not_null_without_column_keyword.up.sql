ALTER TABLE orders ADD status text NOT NULL;
