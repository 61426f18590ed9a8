-- migrator:allow drop-table
DROP TABLE legacy;
