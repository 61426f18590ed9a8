DROP VIEW open_tasks;
