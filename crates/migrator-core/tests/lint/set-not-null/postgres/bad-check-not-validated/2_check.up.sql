ALTER TABLE users ADD CONSTRAINT users_nickname_nn CHECK (nickname IS NOT NULL) NOT VALID;
