-- The scheduler's claims and the workers' registration.

-- name: ClaimDueChecks :many
-- Takes up to max_checks schedules due within lookahead_sec for one worker: those of its
-- location, and those of checks any worker may run (location ''). The worker starts each run
-- at its due time (due_in_sec from now, on the database's clock; negative when late), so a
-- claim that comes a little late, or slow, still starts runs on time, and one claim serves
-- several polls' worth of runs. A heartbeat check is claimed only once due: its judgement
-- reads the pings received until then. SKIP LOCKED lets many workers claim at once without
-- waiting on each other; the lease keeps a schedule from running twice while it runs (it lasts
-- from the due time for the check's timeout plus a margin, so a dead worker's checks move on).
-- next_run_at advances by exactly one interval, so the schedule does not drift; a schedule that
-- fell behind restarts from now, spread over a little jitter so a backlog does not bunch up. A
-- pending run-now request is claimed like a due run, with its run id, even for a disabled check.
-- workspace_id, when set, limits the claim to one workspace (a remote worker's workspace token).
--
-- A due schedule whose check is paused (or its host inactive) is parked instead: moved
-- between park_sec and twice that ahead, unleased. Left due, every claim of every worker would
-- walk it again (10,000 paused checks cost each claim 40 ms); the spread keeps checks paused
-- together from coming back together, a burst that delayed the claims of running checks.
-- Enabling the check brings its schedules back at once (WakeCheckSchedules); twice park_sec
-- bounds the wait when a claim parks on a snapshot taken just before the check was enabled.
WITH due AS (
    SELECT s.workspace_id, s.check_id, s.location, s.next_run_at, s.pending_run_id IS NULL AND NOT k.runnable AS park,
           k.interval_sec, k.timeout_sec
    FROM check_schedules s
    -- The check and its host are looked up by key per due schedule, never joined: PostgreSQL's
    -- row estimates for due schedules are often far off, and with a join it chose nested loops
    -- over every host for each due schedule (0.3–1.3 s per claim at 10,000 checks). OFFSET 0
    -- keeps the subquery from being flattened into such a join, and the host is a subquery of
    -- its own so that it is found by its key, not among every host of the workspace.
    CROSS JOIN LATERAL (SELECT c.enabled AND (SELECT h.is_active FROM hosts h
                                              WHERE h.workspace_id = c.workspace_id AND h.id = c.host_id) AS runnable,
                               c.check_type, c.interval_sec, c.timeout_sec
                        FROM checks c
                        WHERE c.workspace_id = s.workspace_id AND c.id = s.check_id
                        OFFSET 0) k
    WHERE s.next_run_at <= now() + make_interval(secs => @lookahead_sec::float8)
      AND s.location IN ('', @location::text)
      -- The previous run's lease must end by this run's due time: it ends when the digest
      -- has its result, or at the latest its timeout plus the lease margin after it was due.
      -- With a timeout and margin within the interval, a slow digest never delays a run.
      AND (s.lease_until IS NULL OR s.lease_until <= greatest(now(), s.next_run_at))
      AND (sqlc.narg(workspace_id)::uuid IS NULL OR s.workspace_id = sqlc.narg(workspace_id)::uuid)
      AND (s.next_run_at <= now() OR k.check_type <> 'heartbeat')
      -- The workspaces that retired this worker, read once (an InitPlan): as a NOT EXISTS
      -- anti-join, PostgreSQL estimated it left one row and joined every due schedule with
      -- every host (1.3 s per claim at 10,000 checks).
      AND s.workspace_id <> ALL (ARRAY(SELECT w.workspace_id FROM workers w
                                       WHERE w.id = @worker_id AND w.retired_at IS NOT NULL))
    ORDER BY s.next_run_at
    LIMIT @max_checks
    FOR UPDATE OF s SKIP LOCKED
), parked AS (
    UPDATE check_schedules s SET next_run_at = now() + make_interval(secs => (1 + random()) * @park_sec::float8)
    FROM due
    WHERE due.park AND s.workspace_id = due.workspace_id AND s.check_id = due.check_id AND s.location = due.location
    RETURNING s.workspace_id, s.check_id, s.location, due.next_run_at AS due_at
), claimed AS (
    UPDATE check_schedules s SET
        lease_until    = greatest(now(), s.next_run_at) + make_interval(secs => due.timeout_sec + @lease_margin_sec::integer),
        leased_by      = @worker_id,
        lease_run_id   = coalesce(s.pending_run_id, gen_random_uuid()),
        pending_run_id = NULL,
        next_run_at    = CASE
            WHEN s.next_run_at + make_interval(secs => due.interval_sec) > now()
                THEN s.next_run_at + make_interval(secs => due.interval_sec)
            ELSE secumon_run_soon(due.interval_sec)
        END
    FROM due
    WHERE NOT due.park AND s.workspace_id = due.workspace_id AND s.check_id = due.check_id AND s.location = due.location
    RETURNING s.workspace_id, s.check_id, s.location, s.lease_run_id, due.next_run_at AS due_at
), taken AS (
    -- Parked schedules come back too (run false): they took places in the claim's limit, and
    -- the caller must know that a claim short of runs may still have left more due.
    SELECT claimed.workspace_id, claimed.check_id, claimed.location, claimed.lease_run_id, claimed.due_at, true AS run FROM claimed
    UNION ALL
    SELECT parked.workspace_id, parked.check_id, parked.location, NULL::uuid, parked.due_at, false FROM parked
)
SELECT c.workspace_id, c.id, c.host_id, c.check_type, c.config, c.timeout_sec, h.hostname, taken.lease_run_id,
       taken.location, extract(epoch FROM taken.due_at - now())::float8 AS due_in_sec, taken.run
FROM taken
JOIN checks c ON c.workspace_id = taken.workspace_id AND c.id = taken.check_id
JOIN hosts h ON h.workspace_id = c.workspace_id AND h.id = c.host_id;

-- name: WakeCheckSchedules :exec
-- After a check is enabled, or its interval changed (in the same transaction): its schedules
-- fall due within min(interval, 10 s) unless sooner. A resumed check does not wait out the
-- park a claim gave it, nor a check given a shorter interval the rest of its old one.
UPDATE check_schedules s
SET next_run_at = least(s.next_run_at, secumon_run_soon(c.interval_sec))
FROM checks c
WHERE c.workspace_id = @workspace_id AND c.id = @id
  AND s.workspace_id = c.workspace_id AND s.check_id = c.id;

-- name: WakeHostSchedules :exec
-- After a host is made active (in the same transaction): its checks' schedules fall due
-- within min(interval, 10 s) unless sooner, as WakeCheckSchedules does for one check.
UPDATE check_schedules s
SET next_run_at = least(s.next_run_at, secumon_run_soon(c.interval_sec))
FROM checks c
WHERE c.workspace_id = @workspace_id AND c.host_id = @host_id
  AND s.workspace_id = c.workspace_id AND s.check_id = c.id;

-- name: RequestRun :one
-- Run now: the check's schedules fall due at once and carry the run id, which every location's
-- run reports. A request made while one is still pending joins it (same run id), so that no
-- caller waits for a run that never comes. The schedule then continues one interval after.
WITH pending AS (
    SELECT p.pending_run_id FROM check_schedules p
    WHERE p.workspace_id = @workspace_id AND p.check_id = @check_id AND p.pending_run_id IS NOT NULL
    LIMIT 1
), requested AS (
    UPDATE check_schedules SET
        pending_run_id = coalesce(check_schedules.pending_run_id, (SELECT pending_run_id FROM pending), @run_id::uuid),
        next_run_at    = least(next_run_at, now())
    WHERE check_schedules.workspace_id = @workspace_id AND check_schedules.check_id = @check_id
    RETURNING check_schedules.pending_run_id
)
SELECT pending_run_id::uuid FROM requested LIMIT 1;

-- name: RegisterWorkerEverywhere :exec
-- A worker process serves every workspace and shows in each one's GET /workers; this also
-- is its heartbeat. A workspace that retired it keeps it retired.
INSERT INTO workers (workspace_id, id, name, location, version)
SELECT w.id, @id, @name, @location, @version FROM workspaces w
ON CONFLICT (workspace_id, id) DO UPDATE SET
    last_heartbeat = now(), name = EXCLUDED.name, location = EXCLUDED.location, version = EXCLUDED.version;

-- name: ClaimUnservedSchedules :many
-- The location reporter's claim: schedules of a named location overdue by more than a grace
-- (the larger of one interval and min_grace_sec) whose workspace has no live worker in that
-- location (a heartbeat within stale_after_sec, not retired). Each is moved on so that it
-- comes back one interval later if still unserved (one report per interval, never a burst),
-- or is claimed at once by a worker that appears; a pending run-now request is answered by the
-- report (its run id). SKIP LOCKED and the move keep two serve processes from reporting twice.
WITH unserved AS (
    SELECT s.workspace_id, s.check_id, s.location, s.pending_run_id
    FROM check_schedules s
    JOIN checks c ON c.workspace_id = s.workspace_id AND c.id = s.check_id
    JOIN hosts h ON h.workspace_id = c.workspace_id AND h.id = c.host_id
    WHERE s.location <> ''
      AND s.next_run_at < now() - make_interval(secs => greatest(c.interval_sec, @min_grace_sec::integer))
      AND (s.lease_until IS NULL OR s.lease_until < now())
      AND ((c.enabled AND h.is_active) OR s.pending_run_id IS NOT NULL)
      AND NOT EXISTS (SELECT 1 FROM workers w
                      WHERE w.workspace_id = s.workspace_id AND w.location = s.location AND w.retired_at IS NULL
                        AND w.last_heartbeat > now() - make_interval(secs => @stale_after_sec::integer))
    ORDER BY s.next_run_at
    LIMIT @max_rows
    FOR UPDATE OF s SKIP LOCKED
), moved AS (
    UPDATE check_schedules s SET
        next_run_at    = now() + make_interval(secs => c.interval_sec - greatest(c.interval_sec, @min_grace_sec::integer)),
        pending_run_id = NULL
    FROM unserved u, checks c
    WHERE s.workspace_id = u.workspace_id AND s.check_id = u.check_id AND s.location = u.location
      AND c.workspace_id = s.workspace_id AND c.id = s.check_id
    RETURNING s.workspace_id, s.check_id, s.location, c.host_id, u.pending_run_id AS run_id
)
SELECT workspace_id, check_id, host_id, location, run_id FROM moved;

-- name: ReleaseClaims :exec
-- Hands back runs that a stopping worker claimed ahead and never started: each schedule gets
-- its due time back and loses its lease, so another worker runs it on time. The run id becomes
-- a pending one, so that a run-now request among them is still answered with its id (for an
-- ordinary run it is just the id the next run reports).
UPDATE check_schedules s SET
    next_run_at = r.due_at, lease_until = NULL, leased_by = NULL, lease_run_id = NULL,
    pending_run_id = coalesce(s.pending_run_id, s.lease_run_id)
FROM (SELECT unnest(@run_ids::uuid[]) AS run_id, unnest(@due_ats::timestamptz[]) AS due_at) r
WHERE s.lease_run_id = r.run_id AND s.leased_by = @worker_id;
