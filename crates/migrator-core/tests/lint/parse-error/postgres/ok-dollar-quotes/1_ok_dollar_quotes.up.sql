CREATE FUNCTION one() RETURNS int LANGUAGE sql AS $fn$ SELECT 1; $fn$;
SELECT 'it''s; fine';
