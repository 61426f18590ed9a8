ALTER TABLE orders ADD status TEXT NOT NULL REFERENCES statuses (name);
