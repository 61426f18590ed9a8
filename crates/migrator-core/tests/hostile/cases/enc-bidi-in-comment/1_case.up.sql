-- check access‮ } ⁦ {
CREATE TABLE t (id bigint PRIMARY KEY);
