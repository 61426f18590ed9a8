source other.sql
CREATE TABLE t (id bigint PRIMARY KEY);
