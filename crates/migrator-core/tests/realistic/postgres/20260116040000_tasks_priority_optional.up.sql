-- migrator:phase contract
-- Every running version handles a NULL priority now.
ALTER TABLE tasks ALTER COLUMN priority DROP NOT NULL;
