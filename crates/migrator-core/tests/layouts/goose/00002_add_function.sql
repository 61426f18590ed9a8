-- Counts users; the body has semicolons, so goose needs the block.
-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION user_count() RETURNS bigint AS $$
DECLARE
    n bigint;
BEGIN
    SELECT count(*) INTO n FROM users;
    RETURN n;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TABLE audit (id bigint PRIMARY KEY);

-- +goose Down
-- +goose StatementBegin
DROP FUNCTION user_count();
-- +goose StatementEnd
DROP TABLE audit;
