ALTER TABLE users VALIDATE CONSTRAINT users_nickname_nn;
