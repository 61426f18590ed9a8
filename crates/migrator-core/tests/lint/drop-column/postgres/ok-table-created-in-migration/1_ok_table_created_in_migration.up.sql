CREATE TABLE imports (id bigint PRIMARY KEY, raw text);
ALTER TABLE imports DROP COLUMN raw;
