-- migrator:no-transaction
-- migrator:no-transaction
CREATE TABLE t (id bigint PRIMARY KEY);
