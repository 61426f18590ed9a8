CREATE VIEW comments AS
SELECT id, task_id, author_id, body, created_at FROM task_comments;
