CREATE TABLE t (id bigint PRIMARY KEY);CREATE TABLE u (id bigint PRIMARY KEY);-- migrator:no-transaction
