ALTER TABLE users DROP legacy;
