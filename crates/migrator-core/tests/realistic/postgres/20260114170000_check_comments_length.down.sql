ALTER TABLE comments DROP CONSTRAINT comments_body_length;
