CREATE TABLE t (id bigint PRIMARY KEY)[0m;
