-- migrator:no-transactoin
CREATE TABLE t (id bigint PRIMARY KEY);
