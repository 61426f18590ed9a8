CREATE TABLE post_tags (post_id bigint NOT NULL REFERENCES posts (id), tag text NOT NULL);
