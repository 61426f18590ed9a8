-- +goose Up
-- +goose StatementBegin
CREATE TABLE t (id bigint PRIMARY KEY);
