DROP FUNCTION refresh_project_task_counts();
DROP MATERIALIZED VIEW project_task_counts;
