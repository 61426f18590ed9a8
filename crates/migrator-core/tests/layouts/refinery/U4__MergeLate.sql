CREATE TABLE merged (id bigint PRIMARY KEY);
