ALTER TABLE tasks DROP CONSTRAINT tasks_public_id_key;
CREATE UNIQUE INDEX tasks_public_id_key ON tasks (public_id);
