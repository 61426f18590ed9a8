-- migrator:phase later
CREATE TABLE t (id bigint PRIMARY KEY);
