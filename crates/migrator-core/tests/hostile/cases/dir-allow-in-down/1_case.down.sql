-- migrator:allow drop-table -- x
DROP TABLE t;
