-- migrator:lock-timeout 99999999999999999999h
CREATE TABLE t (id bigint PRIMARY KEY);
