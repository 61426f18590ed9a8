-- +goose ENVSUB ON
-- +goose Up
CREATE TABLE t (id bigint PRIMARY KEY);
