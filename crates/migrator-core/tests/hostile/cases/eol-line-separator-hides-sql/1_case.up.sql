-- creates t CREATE TABLE t (id bigint PRIMARY KEY);
