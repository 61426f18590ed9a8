INSERT INTO notebooks (account_id, title)
SELECT id, 'Inbox' FROM accounts AS a
WHERE NOT EXISTS (SELECT 1 FROM notebooks AS n WHERE n.account_id = a.id AND n.title = 'Inbox');
