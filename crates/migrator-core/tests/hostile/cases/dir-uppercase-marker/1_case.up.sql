-- MIGRATOR:no-transaction
CREATE TABLE t (id bigint PRIMARY KEY);
