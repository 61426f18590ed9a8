-- migrator:irreversible -- data is gone
CREATE TABLE t (id bigint PRIMARY KEY);
