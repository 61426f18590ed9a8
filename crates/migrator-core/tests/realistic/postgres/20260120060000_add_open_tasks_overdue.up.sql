-- The board shows overdue tasks in red. CREATE OR REPLACE VIEW keeps the columns and adds
-- the new one at the end (it cannot drop or reorder them).
CREATE OR REPLACE VIEW open_tasks AS
SELECT t.id, t.public_id, t.title, t.status, t.priority, t.due_on,
       p.id AS project_id, p.name AS project_name,
       u.full_name AS assignee_name,
       task_is_overdue(t.due_on, t.status) AS overdue
FROM tasks t
JOIN projects p ON p.id = t.project_id
LEFT JOIN users u ON u.id = t.assignee_id
WHERE t.status <> 'done' AND p.archived_at IS NULL;
