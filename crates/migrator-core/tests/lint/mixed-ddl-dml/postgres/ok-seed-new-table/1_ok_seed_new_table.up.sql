CREATE TABLE currencies (code CHAR(3) PRIMARY KEY, name text NOT NULL);
INSERT INTO currencies (code, name) VALUES ('EUR', 'Euro'), ('USD', 'US dollar');
