-- A column cannot be removed by CREATE OR REPLACE VIEW: the view is created again.
DROP VIEW open_tasks;
CREATE VIEW open_tasks AS
SELECT t.id, t.public_id, t.title, t.status, t.priority, t.due_on,
       p.id AS project_id, p.name AS project_name,
       u.full_name AS assignee_name
FROM tasks t
JOIN projects p ON p.id = t.project_id
LEFT JOIN users u ON u.id = t.assignee_id
WHERE t.status <> 'done' AND p.archived_at IS NULL;
