CREATE TABLE currencies (code CHAR(3) PRIMARY KEY, name VARCHAR(100) NOT NULL);
INSERT INTO currencies (code, name) VALUES ('EUR', 'Euro'), ('USD', 'US dollar');
