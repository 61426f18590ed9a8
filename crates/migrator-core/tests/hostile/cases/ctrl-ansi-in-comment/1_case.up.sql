-- ]0;owned [2J
CREATE TABLE t (id bigint PRIMARY KEY);
