-- Probe workers. A worker is stale when its heartbeat is older than the lease time.

-- name: ListWorkers :many
SELECT * FROM workers WHERE workspace_id = $1 AND retired_at IS NULL ORDER BY name, id;

-- name: RetireWorker :execrows
-- The worker stops claiming this workspace's checks, and the checks it holds are released
-- at once for the other workers.
WITH released AS (
    UPDATE check_schedules SET lease_until = NULL, leased_by = NULL, lease_run_id = NULL
    WHERE check_schedules.workspace_id = @workspace_id AND check_schedules.leased_by = @id
)
UPDATE workers SET retired_at = now()
WHERE workers.workspace_id = @workspace_id AND workers.id = @id AND retired_at IS NULL;

-- name: RegisterWorker :one
INSERT INTO workers (workspace_id, id, name, location, version)
VALUES ($1, $2, $3, $4, $5)
RETURNING *;

-- name: GetWorker :one
SELECT * FROM workers WHERE workspace_id = $1 AND id = $2;

-- name: ListWorkerLocations :many
-- Each location in use in the workspace (listed by a check, or given by a worker not retired),
-- with its live workers (a heartbeat within stale_after_sec) and the checks that list it.
WITH needed AS (
    SELECT l.location, count(*) AS checks
    FROM checks c CROSS JOIN LATERAL unnest(c.locations) AS l(location)
    WHERE c.workspace_id = @workspace_id
    GROUP BY l.location
), served AS (
    SELECT w.location,
           count(*) FILTER (WHERE w.last_heartbeat > now() - make_interval(secs => @stale_after_sec::integer)) AS live_workers
    FROM workers w
    WHERE w.workspace_id = @workspace_id AND w.retired_at IS NULL AND w.location <> ''
    GROUP BY w.location
)
SELECT coalesce(n.location, s.location)::text AS location, coalesce(s.live_workers, 0)::bigint AS live_workers,
       coalesce(n.checks, 0)::bigint AS checks
FROM needed n FULL JOIN served s ON s.location = n.location
ORDER BY 1;
