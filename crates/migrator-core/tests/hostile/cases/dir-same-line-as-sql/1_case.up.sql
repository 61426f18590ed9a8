CREATE TABLE t (id bigint PRIMARY KEY); -- migrator:no-transaction
