-- migrator:lock-timeout 5
CREATE TABLE t (id bigint PRIMARY KEY);
