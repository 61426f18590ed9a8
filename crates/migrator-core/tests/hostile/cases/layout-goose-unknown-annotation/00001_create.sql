-- +goose Up
-- +goose Sideways
CREATE TABLE t (id bigint PRIMARY KEY);
