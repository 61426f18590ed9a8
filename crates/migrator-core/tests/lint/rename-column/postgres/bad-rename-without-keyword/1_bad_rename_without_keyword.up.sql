ALTER TABLE users RENAME nickname TO display_name;
