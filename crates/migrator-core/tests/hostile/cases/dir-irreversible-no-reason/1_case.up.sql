-- migrator:irreversible
CREATE TABLE t (id bigint PRIMARY KEY);
