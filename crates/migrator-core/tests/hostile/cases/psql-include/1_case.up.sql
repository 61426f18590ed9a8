CREATE TABLE t (id bigint PRIMARY KEY);
\i more.sql
