DROP VIEW comments;
ALTER TABLE task_comments RENAME TO comments;
