-- The validated check lets PostgreSQL skip the scan.
ALTER TABLE users ALTER COLUMN nickname SET NOT NULL;
ALTER TABLE users DROP CONSTRAINT users_nickname_nn;
