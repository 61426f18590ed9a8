-- migrator:no-op -- nothing
CREATE TABLE t (id bigint PRIMARY KEY);
