-- Checks. Lists are keyset-paginated on (name, id).

-- name: CreateCheck :one
-- The check and its schedules (one per location, or one any worker may run). The first run comes
-- soon, at a random point within min(interval, 10 s) (secumon_run_soon), so that checks created
-- together (an import, an automation run) do not all fall due in the same instant forever.
WITH c AS (
    INSERT INTO checks (workspace_id, id, host_id, name, check_type, config, interval_sec, timeout_sec,
                        failure_threshold, severity, enabled, locations, confirm_locations)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
            coalesce(sqlc.narg('locations')::text[], '{}'), coalesce(sqlc.narg('confirm_locations')::integer, 1))
    RETURNING *
), s AS (
    INSERT INTO check_schedules (workspace_id, check_id, location, next_run_at)
    SELECT c.workspace_id, c.id, l.location, secumon_run_soon(c.interval_sec)
    FROM c CROSS JOIN LATERAL unnest(CASE WHEN cardinality(c.locations) = 0 THEN ARRAY[''] ELSE c.locations END) AS l(location)
)
SELECT * FROM c;

-- name: ChecksRunTimes :many
-- When each check runs next (its soonest location) and last ran (its latest location; null
-- before its first run). The last run is one lookup per check rather than max(), which the
-- generated code would type as a bare interface{}.
SELECT n.check_id, n.next_run_at, l.last_run_at
FROM (SELECT s.check_id, min(s.next_run_at)::timestamptz AS next_run_at FROM check_schedules s
      WHERE s.workspace_id = @workspace_id AND s.check_id = ANY(@check_ids::uuid[])
      GROUP BY s.check_id) n
CROSS JOIN LATERAL (SELECT p.last_run_at FROM check_schedules p
                    WHERE p.workspace_id = @workspace_id AND p.check_id = n.check_id
                    ORDER BY p.last_run_at DESC NULLS LAST LIMIT 1) l;

-- name: GetCheck :one
SELECT * FROM checks WHERE workspace_id = $1 AND id = $2;

-- name: ListChecks :many
SELECT * FROM checks
WHERE workspace_id = @workspace_id
  AND (sqlc.narg('host_id')::uuid IS NULL OR host_id = sqlc.narg('host_id'))
  AND (sqlc.narg('after_name')::text IS NULL OR (name, id) > (sqlc.narg('after_name')::text, @after_id::uuid))
ORDER BY name, id
LIMIT @max_rows;

-- name: CountChecks :one
SELECT count(*) FROM checks
WHERE workspace_id = @workspace_id
  AND (sqlc.narg('host_id')::uuid IS NULL OR host_id = sqlc.narg('host_id'));

-- name: UpdateCheck :one
-- Partial update: a NULL argument keeps the column's value.
UPDATE checks SET
    name              = coalesce(sqlc.narg('name'), name),
    config            = coalesce(sqlc.narg('config'), config),
    interval_sec      = coalesce(sqlc.narg('interval_sec'), interval_sec),
    timeout_sec       = coalesce(sqlc.narg('timeout_sec'), timeout_sec),
    failure_threshold = coalesce(sqlc.narg('failure_threshold'), failure_threshold),
    severity          = coalesce(sqlc.narg('severity'), severity),
    enabled           = coalesce(sqlc.narg('enabled'), enabled),
    locations         = coalesce(sqlc.narg('locations')::text[], locations),
    confirm_locations = coalesce(sqlc.narg('confirm_locations'), confirm_locations),
    updated_at        = now()
WHERE workspace_id = @workspace_id AND id = @id
RETURNING *;

-- name: SyncCheckSchedules :exec
-- After a change of the check's locations (in the same transaction): one schedule per listed
-- location, or one '' schedule when it lists none. Schedules of locations no longer listed go
-- (their lease with them: a run in flight still reports, its result just moves no schedule);
-- a new location's first run comes within min(interval, 10 s), as a new check's does.
WITH c AS (
    SELECT workspace_id, id, interval_sec,
           CASE WHEN cardinality(locations) = 0 THEN ARRAY[''] ELSE locations END AS wanted
    FROM checks WHERE checks.workspace_id = @workspace_id AND checks.id = @id
), gone AS (
    DELETE FROM check_schedules s USING c
    WHERE s.workspace_id = c.workspace_id AND s.check_id = c.id AND NOT s.location = ANY(c.wanted)
)
INSERT INTO check_schedules (workspace_id, check_id, location, next_run_at)
SELECT c.workspace_id, c.id, l.location, secumon_run_soon(c.interval_sec)
FROM c CROSS JOIN LATERAL unnest(c.wanted) AS l(location)
ON CONFLICT (workspace_id, check_id, location) DO NOTHING;

-- name: DeleteCheck :execrows
DELETE FROM checks WHERE workspace_id = $1 AND id = $2;

-- name: FailingLocations :many
-- The check's locations that fail now, as DigestRuns counts them: a streak of at least the
-- check's failure_threshold and a last run within one interval plus the timeout plus
-- a margin. The evaluator names them in the incident it opens.
SELECT s.location
FROM check_schedules s
JOIN checks c ON c.workspace_id = s.workspace_id AND c.id = s.check_id
WHERE s.workspace_id = @workspace_id AND s.check_id = @check_id AND s.location <> ''
  AND s.fail_streak >= c.failure_threshold
  AND s.last_run_at >= now() - make_interval(secs => c.interval_sec + c.timeout_sec + @fresh_margin_sec::integer)
ORDER BY s.location;
