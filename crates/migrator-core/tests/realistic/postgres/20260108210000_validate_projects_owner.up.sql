ALTER TABLE projects VALIDATE CONSTRAINT projects_owner_id_fkey;
