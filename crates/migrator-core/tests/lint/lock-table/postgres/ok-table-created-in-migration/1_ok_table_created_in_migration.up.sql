CREATE TABLE staging (id bigint PRIMARY KEY);
LOCK TABLE staging;
