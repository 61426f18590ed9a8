CREATE TABLE t (name text DEFAULT 'café');
