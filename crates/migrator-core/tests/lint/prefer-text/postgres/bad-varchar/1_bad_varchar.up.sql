CREATE TABLE users (id bigint PRIMARY KEY, email varchar(320) NOT NULL);
