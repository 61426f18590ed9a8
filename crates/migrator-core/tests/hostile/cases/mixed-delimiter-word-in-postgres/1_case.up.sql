CREATE TABLE delimiter (id bigint PRIMARY KEY);
