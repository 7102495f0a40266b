-- Incidents and their timelines. Lists are keyset-paginated on (created_at, id), newest first.

-- name: CreateIncident :one
INSERT INTO incidents (workspace_id, id, title, description, severity, status, tags, host_id, check_id, storm_id, public_title)
VALUES (@workspace_id, @id, @title, @description, @severity, 'investigating', @tags, sqlc.narg('host_id'), sqlc.narg('check_id'), sqlc.narg('storm_id'), sqlc.narg('public_title'))
RETURNING *;

-- name: OpenAutoIncident :one
-- Opens the automatic incident of a check unless one is already open (then no row).
INSERT INTO incidents (workspace_id, id, title, description, severity, status, tags, host_id, check_id, storm_id)
VALUES (@workspace_id, @id, @title, @description, @severity, 'investigating', @tags, @host_id, @check_id, sqlc.narg('storm_id'))
ON CONFLICT (workspace_id, check_id) WHERE status <> 'resolved' AND check_id IS NOT NULL AND tags->>'source' = 'auto'
DO NOTHING
RETURNING *;

-- name: GetIncident :one
SELECT * FROM incidents WHERE workspace_id = $1 AND id = $2;

-- name: LockIncident :one
SELECT * FROM incidents WHERE workspace_id = $1 AND id = $2 FOR UPDATE;

-- name: OpenAutoIncidentOfCheck :one
SELECT * FROM incidents
WHERE workspace_id = $1 AND check_id = $2 AND status <> 'resolved' AND tags->>'source' = 'auto'
FOR UPDATE;

-- name: RecentAutoIncidentOfCheck :one
-- The check's latest automatic incident if it resolved after @since (a flap: reopen it).
SELECT * FROM incidents
WHERE workspace_id = @workspace_id AND check_id = @check_id AND tags->>'source' = 'auto'
  AND status = 'resolved' AND resolved_at >= @since AND merged_into IS NULL
ORDER BY resolved_at DESC
LIMIT 1
FOR UPDATE;

-- name: SetIncidentStatus :one
-- Moves an incident to @status; acknowledging and resolving stamp who and when, reopening
-- clears the resolution. Any move ends an acknowledgement's expiry: an acknowledgement
-- with one sets it afterwards, in the same transaction.
UPDATE incidents SET
    status          = @status,
    ack_expires_at  = NULL,
    updated_at      = now(),
    acknowledged_at = CASE WHEN @status = 'acknowledged' THEN coalesce(sqlc.narg('at'), now()) ELSE acknowledged_at END,
    acknowledged_by = CASE WHEN @status = 'acknowledged' THEN @actor::text ELSE acknowledged_by END,
    resolved_at     = CASE WHEN @status = 'resolved' THEN coalesce(sqlc.narg('at'), now()) ELSE NULL END,
    resolved_by     = CASE WHEN @status = 'resolved' THEN @actor::text ELSE NULL END,
    reopen_count    = reopen_count + CASE WHEN status = 'resolved' AND @status <> 'resolved' THEN 1 ELSE 0 END
WHERE workspace_id = @workspace_id AND id = @id
RETURNING *;

-- name: SetIncidentPublicTitle :one
-- Sets (or, with NULL, clears) what public status pages call the incident.
UPDATE incidents SET public_title = sqlc.narg('public_title'), updated_at = now()
WHERE workspace_id = @workspace_id AND id = @id
RETURNING *;

-- name: TouchIncident :exec
UPDATE incidents SET updated_at = now() WHERE workspace_id = $1 AND id = $2;

-- name: SetIncidentStorm :exec
UPDATE incidents SET storm_id = @storm_id, updated_at = now()
WHERE workspace_id = @workspace_id AND id = ANY(@ids::uuid[]) AND storm_id IS NULL;

-- name: ListIncidents :many
SELECT * FROM incidents
WHERE workspace_id = @workspace_id
  AND (CASE @status_filter::text
         WHEN 'open' THEN status <> 'resolved'
         WHEN 'all' THEN true
         ELSE status = @status_filter::text END)
  AND (sqlc.narg('severity')::text IS NULL OR severity = sqlc.narg('severity'))
  AND (sqlc.narg('host_id')::uuid IS NULL OR host_id = sqlc.narg('host_id'))
  AND (sqlc.narg('assignee_id')::uuid IS NULL OR assignee_id = sqlc.narg('assignee_id'))
  AND (sqlc.narg('unassigned')::boolean IS NULL OR (assignee_id IS NULL) = sqlc.narg('unassigned'))
  AND (sqlc.narg('tags')::jsonb IS NULL OR tags @> sqlc.narg('tags'))
  AND (sqlc.narg('from_time')::timestamptz IS NULL OR created_at >= sqlc.narg('from_time'))
  AND (sqlc.narg('to_time')::timestamptz IS NULL OR created_at < sqlc.narg('to_time'))
  AND (sqlc.narg('before_time')::timestamptz IS NULL OR (created_at, id) < (sqlc.narg('before_time'), @before_id::uuid))
ORDER BY created_at DESC, id DESC
LIMIT @max_rows;

-- name: CountIncidents :one
SELECT count(*) FROM incidents
WHERE workspace_id = @workspace_id
  AND (CASE @status_filter::text
         WHEN 'open' THEN status <> 'resolved'
         WHEN 'all' THEN true
         ELSE status = @status_filter::text END)
  AND (sqlc.narg('severity')::text IS NULL OR severity = sqlc.narg('severity'))
  AND (sqlc.narg('host_id')::uuid IS NULL OR host_id = sqlc.narg('host_id'))
  AND (sqlc.narg('assignee_id')::uuid IS NULL OR assignee_id = sqlc.narg('assignee_id'))
  AND (sqlc.narg('unassigned')::boolean IS NULL OR (assignee_id IS NULL) = sqlc.narg('unassigned'))
  AND (sqlc.narg('tags')::jsonb IS NULL OR tags @> sqlc.narg('tags'))
  AND (sqlc.narg('from_time')::timestamptz IS NULL OR created_at >= sqlc.narg('from_time'))
  AND (sqlc.narg('to_time')::timestamptz IS NULL OR created_at < sqlc.narg('to_time'));

-- name: AddIncidentEvent :one
INSERT INTO incident_events (workspace_id, id, incident_id, action, actor, note, status, public)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING *;

-- name: ListIncidentEvents :many
SELECT * FROM incident_events WHERE workspace_id = $1 AND incident_id = $2 ORDER BY time, id;

-- name: RecentAutoIncidents :many
-- Automatic incidents opened or reopened since @since, for storm detection.
SELECT i.id, i.host_id, i.check_id, i.storm_id, c.check_type, l.worker_id
FROM incidents i
LEFT JOIN checks c ON c.workspace_id = i.workspace_id AND c.id = i.check_id
LEFT JOIN check_latest l ON l.workspace_id = i.workspace_id AND l.check_id = i.check_id
WHERE i.workspace_id = @workspace_id AND i.tags->>'source' = 'auto' AND i.status <> 'resolved'
  AND i.updated_at >= @since
ORDER BY i.id;

-- name: SetIncidentFields :one
-- PUT /incidents/{id}: the fields an operator may change (the caller passes every one, changed or not).
UPDATE incidents SET title = @title, severity = @severity, assignee_id = sqlc.narg('assignee_id'),
    public_title = sqlc.narg('public_title'), updated_at = now()
WHERE workspace_id = @workspace_id AND id = @id
RETURNING *;

-- name: SetIncidentSnooze :one
-- Sets (or, with NULL, ends) the time until which the incident's notifications are silenced.
UPDATE incidents SET snoozed_until = sqlc.narg('snoozed_until'), updated_at = now()
WHERE workspace_id = @workspace_id AND id = @id
RETURNING *;

-- name: LockIncidents :many
-- Locks several incidents in id order (so two merges cannot deadlock); ids of other
-- workspaces are simply absent.
SELECT * FROM incidents WHERE workspace_id = @workspace_id AND id = ANY(@ids::uuid[])
ORDER BY id
FOR UPDATE;

-- name: MergeIncidents :many
-- Resolves the duplicates @ids into @target_id; an already resolved duplicate keeps its resolution time.
UPDATE incidents SET
    merged_into = @target_id::uuid,
    status      = 'resolved',
    resolved_at = CASE WHEN status = 'resolved' THEN resolved_at ELSE now() END,
    resolved_by = CASE WHEN status = 'resolved' THEN resolved_by ELSE @actor::text END,
    updated_at  = now()
WHERE workspace_id = @workspace_id AND id = ANY(@ids::uuid[])
RETURNING *;

-- name: IncidentStatsCounts :many
-- Incidents opened in [@from_time, @to_time), counted per (merged, status, severity, source):
-- at most 2 × 3 × 5 × sources rows, summed by the caller.
SELECT (merged_into IS NOT NULL)::boolean AS merged, status, severity,
       coalesce(tags->>'source', 'unknown')::text AS source, count(*) AS n
FROM incidents
WHERE workspace_id = @workspace_id AND created_at >= @from_time AND created_at < @to_time
GROUP BY 1, 2, 3, 4;

-- name: IncidentStatsDurations :one
-- Times to acknowledge and to resolve (seconds) of the incidents opened in [@from_time,
-- @to_time), merged duplicates excepted; means and medians are 0 when their count is 0.
SELECT
    count(acknowledged_at) AS acked,
    coalesce(avg(extract(epoch FROM acknowledged_at - created_at)), 0)::float8 AS mtta_mean,
    coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM acknowledged_at - created_at)), 0)::float8 AS mtta_median,
    count(resolved_at) AS resolved,
    coalesce(avg(extract(epoch FROM resolved_at - created_at)), 0)::float8 AS mttr_mean,
    coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - created_at)), 0)::float8 AS mttr_median
FROM incidents
WHERE workspace_id = @workspace_id AND created_at >= @from_time AND created_at < @to_time AND merged_into IS NULL;
