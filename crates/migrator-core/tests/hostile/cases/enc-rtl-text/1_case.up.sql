CREATE TABLE t (id bigint PRIMARY KEY, greeting text DEFAULT 'שלום');
