-- The first customer, moved over from the old system: its organization, users, a project
-- and its tasks. The old system kept emails as typed; a later migration cleans them up.
INSERT INTO organizations (name, slug) VALUES ('Acme', 'acme')
ON CONFLICT (slug) DO NOTHING;

INSERT INTO users (organization_id, email, display_name)
SELECT o.id, v.email, v.display_name
FROM organizations o
CROSS JOIN (VALUES
    (' Ada.Lovelace@Acme.example', 'Ada Lovelace'),
    ('grace.hopper@acme.example ', 'Grace Hopper'),
    ('Edsger@ACME.example', NULL)
) AS v (email, display_name)
WHERE o.slug = 'acme';

INSERT INTO projects (organization_id, name, budget)
SELECT id, 'Analytical Engine', 12500.00 FROM organizations WHERE slug = 'acme';

INSERT INTO tasks (project_id, assignee_id, title, status, priority, due_on)
SELECT p.id, u.id, v.title, v.status::task_status, v.priority, v.due_on::date
FROM projects p
JOIN organizations o ON o.id = p.organization_id AND o.slug = 'acme'
CROSS JOIN (VALUES
    ('Design the mill', 'done', 2, '2026-01-20', 'grace.hopper@acme.example '),
    ('Punch the cards', 'doing', 1, '2026-02-01', ' Ada.Lovelace@Acme.example'),
    ('Order brass gears', 'todo', 0, NULL, NULL),
    ('Write the first program', 'done', 3, '2026-01-10', ' Ada.Lovelace@Acme.example')
) AS v (title, status, priority, due_on, assignee)
LEFT JOIN users u ON u.email = v.assignee
WHERE p.name = 'Analytical Engine';
