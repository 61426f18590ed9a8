CREATE TABLE persons (id bigint PRIMARY KEY, name text);
