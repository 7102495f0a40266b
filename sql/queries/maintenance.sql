-- Maintenance windows. Lists are keyset-paginated on (start_time, id), newest first.

-- name: CreateMaintenanceWindow :one
INSERT INTO maintenance_windows (workspace_id, id, title, description, start_time, end_time, suppress_alerts, notify_subscribers, affected_hosts)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING *;

-- name: GetMaintenanceWindow :one
SELECT * FROM maintenance_windows WHERE workspace_id = $1 AND id = $2;

-- name: LockMaintenanceWindow :one
SELECT * FROM maintenance_windows WHERE workspace_id = $1 AND id = $2 FOR UPDATE;

-- name: ListMaintenanceWindows :many
SELECT * FROM maintenance_windows
WHERE workspace_id = @workspace_id
  AND (sqlc.narg('status')::text IS NULL OR status = sqlc.narg('status'))
  AND (sqlc.narg('before_time')::timestamptz IS NULL OR (start_time, id) < (sqlc.narg('before_time'), @before_id::uuid))
ORDER BY start_time DESC, id DESC
LIMIT @max_rows;

-- name: CountMaintenanceWindows :one
SELECT count(*) FROM maintenance_windows
WHERE workspace_id = @workspace_id AND (sqlc.narg('status')::text IS NULL OR status = sqlc.narg('status'));

-- name: UpdateMaintenanceWindow :one
-- Partial update: a NULL argument keeps the column's value.
UPDATE maintenance_windows SET
    title              = coalesce(sqlc.narg('title'), title),
    description        = coalesce(sqlc.narg('description'), description),
    start_time         = coalesce(sqlc.narg('start_time'), start_time),
    end_time           = coalesce(sqlc.narg('end_time'), end_time),
    suppress_alerts    = coalesce(sqlc.narg('suppress_alerts'), suppress_alerts),
    notify_subscribers = coalesce(sqlc.narg('notify_subscribers'), notify_subscribers),
    affected_hosts     = coalesce(sqlc.narg('affected_hosts'), affected_hosts),
    updated_at         = now()
WHERE workspace_id = @workspace_id AND id = @id
RETURNING *;

-- name: SetMaintenanceStatus :one
UPDATE maintenance_windows SET status = @status, updated_at = now(),
    start_time = CASE WHEN @status = 'active' AND start_time > now() THEN now() ELSE start_time END,
    end_time   = CASE WHEN @status = 'completed' AND end_time > now() THEN now() ELSE end_time END
WHERE workspace_id = @workspace_id AND id = @id
RETURNING *;

-- name: DeleteMaintenanceWindow :execrows
DELETE FROM maintenance_windows WHERE workspace_id = $1 AND id = $2;

-- name: StartDueMaintenance :many
-- Windows start and end by themselves at their times (across all workspaces).
UPDATE maintenance_windows SET status = 'active', updated_at = now()
WHERE status = 'scheduled' AND start_time <= now() AND end_time > now()
RETURNING workspace_id, id;

-- name: EndDueMaintenance :many
UPDATE maintenance_windows SET status = 'completed', updated_at = now()
WHERE status IN ('scheduled', 'active') AND end_time <= now()
RETURNING workspace_id, id;
