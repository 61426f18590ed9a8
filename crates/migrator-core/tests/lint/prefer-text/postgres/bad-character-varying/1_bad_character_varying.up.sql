ALTER TABLE users ADD COLUMN city character varying(80);
