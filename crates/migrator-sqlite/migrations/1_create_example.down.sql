DROP TABLE example;
