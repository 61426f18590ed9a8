CREATE TABLE t (id bigint PRIMARY KEY, s text DEFAULT 'ding');
