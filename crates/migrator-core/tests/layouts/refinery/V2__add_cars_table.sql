CREATE TABLE cars (id bigint PRIMARY KEY, name text);
