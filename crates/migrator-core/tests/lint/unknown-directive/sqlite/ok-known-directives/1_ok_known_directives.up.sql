-- migrator:no-transaction
-- migrator:phase contract
VACUUM;
