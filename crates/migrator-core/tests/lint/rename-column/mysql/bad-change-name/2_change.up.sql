ALTER TABLE users CHANGE nickname display_name VARCHAR(50);
