-- migrator:phase contract
DROP TABLE legacy;
