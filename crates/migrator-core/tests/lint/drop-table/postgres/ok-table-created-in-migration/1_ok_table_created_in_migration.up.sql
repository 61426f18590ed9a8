CREATE TEMPORARY TABLE scratch (id bigint);
DROP TABLE scratch;
