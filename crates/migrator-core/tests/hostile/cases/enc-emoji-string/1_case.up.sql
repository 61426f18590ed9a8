CREATE TABLE t (id bigint PRIMARY KEY, mood text DEFAULT '😀');
