-- Probe workers. A worker is stale when its heartbeat is older than the lease time.

-- name: ListWorkers :many
SELECT * FROM workers WHERE workspace_id = $1 AND retired_at IS NULL ORDER BY name, id;

-- name: RetireWorker :execrows
UPDATE workers SET retired_at = now() WHERE workspace_id = $1 AND id = $2 AND retired_at IS NULL;

-- name: RegisterWorker :one
INSERT INTO workers (workspace_id, id, name, location, version)
VALUES ($1, $2, $3, $4, $5)
RETURNING *;

-- name: GetWorker :one
SELECT * FROM workers WHERE workspace_id = $1 AND id = $2;
