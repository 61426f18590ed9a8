/* about this file */
-- migrator:no-transaction
CREATE TABLE t (id bigint PRIMARY KEY);
