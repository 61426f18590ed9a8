CREATE TABLE t (id bigint PRIMARY KEY);
SELECT 1 AS one \gset
