CREATE TABLE [order items (id INTEGER);
