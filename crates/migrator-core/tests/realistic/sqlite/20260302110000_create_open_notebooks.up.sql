CREATE VIEW open_notebooks AS
SELECT n.id, n.title, a.email, (SELECT count(*) FROM notes WHERE notes.notebook_id = n.id) AS notes
FROM notebooks AS n JOIN accounts AS a ON a.id = n.account_id
WHERE n.archived = 0;
