-- migrator phase contract
SELECT 1;
