-- migrator:phase contract
ALTER TABLE users MODIFY email VARCHAR(320) NULL;
