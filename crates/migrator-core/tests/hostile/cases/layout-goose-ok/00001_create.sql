-- +goose Up
-- +goose StatementBegin
CREATE TABLE t (id bigint PRIMARY KEY);
-- +goose StatementEnd

-- +goose Down
DROP TABLE t;
