-- migrator:no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS projects_owner_id ON projects (owner_id);
