CREATE TABLE t (id bigint PRIMARY KEY, p text DEFAULT 'C:\');
