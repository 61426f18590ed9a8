CREATE TABLE drafts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, title text);
CREATE INDEX drafts_title ON drafts (title);
DROP INDEX drafts_title;
