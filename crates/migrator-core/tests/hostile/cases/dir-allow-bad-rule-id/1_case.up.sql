-- migrator:allow Drop_Table -- because
CREATE TABLE t (id bigint PRIMARY KEY);
