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
