-- migrator:statement-timeout 3d
CREATE TABLE t (id bigint PRIMARY KEY);
