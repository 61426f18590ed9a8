ALTER TABLE articles ADD FULLTEXT INDEX articles_body (body);
