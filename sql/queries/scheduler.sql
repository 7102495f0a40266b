-- The scheduler's claims and the workers' registration.

-- name: ClaimDueChecks :many
-- Takes up to max_checks due checks for one worker. SKIP LOCKED lets many workers claim at
-- once without waiting on each other; the lease keeps a check from running twice while it
-- runs (it lasts the check's timeout plus a margin, so a dead worker's checks move on).
-- next_run_at advances by exactly one interval, so the schedule does not drift; a check that
-- fell behind restarts from now, spread over a little jitter so a backlog does not bunch up.
-- late_sec is how late the run is claimed (the scheduler lag metric), on the database's clock.
-- workspace_id, when set, limits the claim to one workspace (a remote worker's workspace token).
WITH due AS (
    SELECT c.workspace_id, c.id, c.next_run_at
    FROM checks c
    JOIN hosts h ON h.workspace_id = c.workspace_id AND h.id = c.host_id
    WHERE c.enabled AND h.is_active
      AND c.next_run_at <= now()
      AND (c.lease_until IS NULL OR c.lease_until < now())
      AND (sqlc.narg(workspace_id)::uuid IS NULL OR c.workspace_id = sqlc.narg(workspace_id)::uuid)
      AND NOT EXISTS (SELECT 1 FROM workers w
                      WHERE w.workspace_id = c.workspace_id AND w.id = @worker_id AND w.retired_at IS NOT NULL)
    ORDER BY c.next_run_at
    LIMIT @max_checks
    FOR UPDATE OF c SKIP LOCKED
)
UPDATE checks c SET
    lease_until = now() + make_interval(secs => c.timeout_sec + @lease_margin_sec::integer),
    leased_by   = @worker_id,
    lease_run_id = gen_random_uuid(),
    next_run_at = CASE
        WHEN c.next_run_at + make_interval(secs => c.interval_sec) > now()
            THEN c.next_run_at + make_interval(secs => c.interval_sec)
        ELSE now() + make_interval(secs => random() * least(c.interval_sec, 10))
    END
FROM due, hosts h
WHERE c.workspace_id = due.workspace_id AND c.id = due.id
  AND h.workspace_id = c.workspace_id AND h.id = c.host_id
RETURNING c.workspace_id, c.id, c.host_id, c.check_type, c.config, c.timeout_sec, h.hostname, c.lease_run_id,
    extract(epoch FROM now() - due.next_run_at)::float8 AS late_sec;

-- name: GetCheckForRun :one
SELECT c.workspace_id, c.id, c.host_id, c.check_type, c.config, c.timeout_sec, h.hostname
FROM checks c JOIN hosts h ON h.workspace_id = c.workspace_id AND h.id = c.host_id
WHERE c.workspace_id = $1 AND c.id = $2;

-- name: RegisterWorkerEverywhere :exec
-- A worker process serves every workspace and shows in each one's GET /workers; this also
-- is its heartbeat. A workspace that retired it keeps it retired.
INSERT INTO workers (workspace_id, id, name, location, version)
SELECT w.id, @id, @name, @location, @version FROM workspaces w
ON CONFLICT (workspace_id, id) DO UPDATE SET
    last_heartbeat = now(), name = EXCLUDED.name, location = EXCLUDED.location, version = EXCLUDED.version;
