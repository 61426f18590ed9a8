-- The foreign key is added NOT VALID: no scan, no long lock. It is validated later.
ALTER TABLE projects ADD COLUMN owner_id bigint;
ALTER TABLE projects
    ADD CONSTRAINT projects_owner_id_fkey FOREIGN KEY (owner_id) REFERENCES users (id) NOT VALID;
