-- migrator:phase contract
DROP TABLE t;
