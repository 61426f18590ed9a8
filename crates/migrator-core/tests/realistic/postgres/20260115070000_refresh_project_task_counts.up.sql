-- Allowed in a transaction, and readers are not blocked.
REFRESH MATERIALIZED VIEW CONCURRENTLY project_task_counts;
