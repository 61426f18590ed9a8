-- migrator:phase contract
-- Every running version uses task_comments now.
DROP VIEW comments;
