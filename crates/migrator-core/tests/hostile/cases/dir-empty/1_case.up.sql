-- migrator:
CREATE TABLE t (id bigint PRIMARY KEY);
