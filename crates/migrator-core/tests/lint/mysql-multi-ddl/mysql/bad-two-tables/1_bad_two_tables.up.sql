CREATE TABLE tags (id BIGINT PRIMARY KEY);
CREATE TABLE post_tags (post_id BIGINT NOT NULL, tag_id BIGINT NOT NULL, PRIMARY KEY (post_id, tag_id));
