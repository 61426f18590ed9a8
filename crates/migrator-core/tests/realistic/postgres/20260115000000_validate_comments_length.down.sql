ALTER TABLE comments DROP CONSTRAINT comments_body_length;
ALTER TABLE comments
    ADD CONSTRAINT comments_body_length CHECK (char_length(body) <= 10000) NOT VALID;
