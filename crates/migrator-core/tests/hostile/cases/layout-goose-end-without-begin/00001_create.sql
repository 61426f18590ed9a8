-- +goose Up
CREATE TABLE t (id bigint PRIMARY KEY);
-- +goose StatementEnd
