DROP VIEW open_notebooks;
CREATE TABLE accounts_old (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL COLLATE NOCASE,
    display_name TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    locale TEXT NOT NULL DEFAULT 'en'
) STRICT;
INSERT INTO accounts_old SELECT id, email, display_name, created_at, locale FROM accounts;
DROP TABLE accounts;
ALTER TABLE accounts_old RENAME TO accounts;
CREATE UNIQUE INDEX accounts_email ON accounts (email);
CREATE VIEW open_notebooks AS
SELECT n.id, n.title, a.email, (SELECT count(*) FROM notes WHERE notes.notebook_id = n.id) AS notes
FROM notebooks AS n JOIN accounts AS a ON a.id = n.account_id
WHERE n.archived = 0;
