ALTER TABLE comments VALIDATE CONSTRAINT comments_body_length;
