-- email was NOT NULL already: only its default changes.
ALTER TABLE users MODIFY email VARCHAR(320) NOT NULL DEFAULT '', ALGORITHM=INSTANT;
