-- migrator:no-transaction please
CREATE TABLE t (id bigint PRIMARY KEY);
