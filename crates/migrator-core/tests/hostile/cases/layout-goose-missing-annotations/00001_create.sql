-- +goose Up
CREATE TABLE t (id bigint PRIMARY KEY);
-- +goose Down
DROP TABLE t;
