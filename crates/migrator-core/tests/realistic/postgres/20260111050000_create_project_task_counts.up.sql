CREATE MATERIALIZED VIEW project_task_counts AS
SELECT project_id, status, count(*) AS tasks
FROM tasks
GROUP BY project_id, status;

-- REFRESH ... CONCURRENTLY needs a unique index.
CREATE UNIQUE INDEX project_task_counts_key ON project_task_counts (project_id, status);

CREATE FUNCTION refresh_project_task_counts() RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    -- Readers keep seeing the old rows while this runs.
    REFRESH MATERIALIZED VIEW CONCURRENTLY project_task_counts;
END
$fn$;
