-- Its users, projects, tasks and everything below them go with it (ON DELETE CASCADE).
DELETE FROM organizations WHERE slug = 'acme';
