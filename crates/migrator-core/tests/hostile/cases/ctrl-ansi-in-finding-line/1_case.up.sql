DROP TABLE legacy; -- [31mred[0m
