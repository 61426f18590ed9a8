-- migrator:allow rename-table -- a view under the old name keeps the running version reading and writing
-- migrator:lock-timeout 5s
-- comments become task_comments (projects will have comments too). The running version still
-- uses the old name: a simple view is updatable, so it reads and writes through it until the
-- view is dropped (contract, later).
ALTER TABLE comments RENAME TO task_comments;
CREATE VIEW comments AS
SELECT id, task_id, author_id, body, created_at FROM task_comments;
