-- Storms: many alerts across many hosts within a short time, grouped into one.

-- name: ActiveStorm :one
SELECT * FROM storms WHERE workspace_id = $1 AND status = 'active' FOR UPDATE;

-- name: StartStorm :one
INSERT INTO storms (workspace_id, id) VALUES ($1, $2)
ON CONFLICT (workspace_id) WHERE status = 'active' DO NOTHING
RETURNING *;

-- name: UpdateStormStats :one
-- Recounts the storm from its incidents and records its probable root cause.
UPDATE storms s SET
    last_alert_at      = now(),
    total_alerts       = v.alerts,
    affected_hosts     = v.hosts,
    affected_checks    = v.checks,
    root_cause_type    = @root_cause_type,
    root_cause_host_id = sqlc.narg('root_cause_host_id'),
    confidence         = @confidence
FROM (SELECT count(*)::integer AS alerts, count(DISTINCT host_id)::integer AS hosts, count(DISTINCT check_id)::integer AS checks
      FROM incidents WHERE workspace_id = @workspace_id AND storm_id = @id) AS v
WHERE s.workspace_id = @workspace_id AND s.id = @id
RETURNING s.*;

-- name: ResolveQuietStorms :many
-- A storm ends after a quiet period without new alerts (across all workspaces).
UPDATE storms SET status = 'resolved', ended_at = now()
WHERE status = 'active' AND last_alert_at <= now() - make_interval(secs => sqlc.arg(quiet_sec)::integer)
RETURNING workspace_id, id;

-- name: ListStorms :many
SELECT * FROM storms
WHERE workspace_id = @workspace_id
  AND (sqlc.narg('active')::boolean IS NULL OR (status = 'active') = sqlc.narg('active'))
  AND (sqlc.narg('before_time')::timestamptz IS NULL OR (started_at, id) < (sqlc.narg('before_time'), @before_id::uuid))
ORDER BY started_at DESC, id DESC
LIMIT @max_rows;

-- name: CountStorms :one
SELECT count(*) FROM storms
WHERE workspace_id = @workspace_id
  AND (sqlc.narg('active')::boolean IS NULL OR (status = 'active') = sqlc.narg('active'));
