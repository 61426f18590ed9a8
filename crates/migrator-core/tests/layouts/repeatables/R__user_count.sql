CREATE OR REPLACE FUNCTION user_count() RETURNS bigint AS $$ SELECT count(*) FROM users $$ LANGUAGE sql;
