CREATE TABLE example (id bigint PRIMARY KEY);
