-- migrator:allow -- because
CREATE TABLE t (id bigint PRIMARY KEY);
