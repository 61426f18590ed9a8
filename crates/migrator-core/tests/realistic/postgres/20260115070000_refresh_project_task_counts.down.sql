-- A refresh has nothing to undo; the next refresh recomputes the view.
REFRESH MATERIALIZED VIEW CONCURRENTLY project_task_counts;
