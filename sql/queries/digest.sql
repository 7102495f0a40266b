-- The digester: committed result batches folded into the state that reads and alerting use.
-- Every statement reads the batches' rows through check_results_batch, bounded by the
-- batches' time span so that only the partitions holding them are opened.

-- name: AddResultBatch :one
INSERT INTO result_batches (first_time, last_time, records) VALUES ($1, $2, $3) RETURNING id;

-- name: TryDigestLock :one
-- One digester at a time across all processes, until the end of its transaction: the
-- statements below add to counters, so two digesters must not interleave.
SELECT pg_try_advisory_xact_lock(424242004);

-- name: TakeResultBatches :many
SELECT id, first_time, last_time, records FROM result_batches ORDER BY id LIMIT @max_batches;

-- name: DigestRollups :exec
-- Adds the batches' results to the 1 min, 1 h and 1 d rollups of their checks. @ok, @warning and
-- @critical are the probes package's status codes; any other code counts as unknown.
INSERT INTO check_rollups AS r (workspace_id, check_id, bucket_size, bucket, samples, ok, warning, critical, unknown,
                                latency_sum, latency_min, latency_max)
SELECT x.workspace_id, x.check_id, s.size,
       date_bin(make_interval(secs => s.size), x.time, timestamptz '1970-01-01 00:00:00+00') AS bucket,
       count(*), count(*) FILTER (WHERE x.status = sqlc.arg(ok)::smallint),
       count(*) FILTER (WHERE x.status = sqlc.arg(warning)::smallint),
       count(*) FILTER (WHERE x.status = sqlc.arg(critical)::smallint),
       count(*) FILTER (WHERE x.status NOT IN (sqlc.arg(ok)::smallint, sqlc.arg(warning)::smallint, sqlc.arg(critical)::smallint)),
       sum(x.latency_ms), min(x.latency_ms), max(x.latency_ms)
FROM check_results x
CROSS JOIN unnest(ARRAY[60, 3600, 86400]) AS s(size)
WHERE x.batch_id = ANY(@batch_ids::bigint[]) AND x.time BETWEEN @first_time AND @last_time
  AND EXISTS (SELECT 1 FROM checks c WHERE c.workspace_id = x.workspace_id AND c.id = x.check_id)
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4
ON CONFLICT (workspace_id, check_id, bucket_size, bucket) DO UPDATE SET
    samples = r.samples + EXCLUDED.samples, ok = r.ok + EXCLUDED.ok, warning = r.warning + EXCLUDED.warning,
    critical = r.critical + EXCLUDED.critical, unknown = r.unknown + EXCLUDED.unknown,
    latency_sum = r.latency_sum + EXCLUDED.latency_sum,
    latency_min = least(r.latency_min, EXCLUDED.latency_min), latency_max = greatest(r.latency_max, EXCLUDED.latency_max);

-- name: DigestLatest :exec
-- The newest of the batches' results per check replaces an older latest, never a newer one;
-- SNMP facts stay until a result brings new ones.
INSERT INTO check_latest AS l (workspace_id, check_id, host_id, time, status, latency_ms, output, error_msg, metrics, facts, run_id, worker_id, location)
SELECT DISTINCT ON (x.workspace_id, x.check_id)
       x.workspace_id, x.check_id, x.host_id, x.time, x.status, x.latency_ms, x.output, x.error_msg, x.metrics, x.facts, x.run_id, x.worker_id, x.location
FROM check_results x
JOIN checks c ON c.workspace_id = x.workspace_id AND c.id = x.check_id
WHERE x.batch_id = ANY(@batch_ids::bigint[]) AND x.time BETWEEN @first_time AND @last_time
ORDER BY x.workspace_id, x.check_id, x.time DESC
ON CONFLICT (workspace_id, check_id) DO UPDATE SET
    host_id = EXCLUDED.host_id, time = EXCLUDED.time, status = EXCLUDED.status, latency_ms = EXCLUDED.latency_ms,
    output = EXCLUDED.output, error_msg = EXCLUDED.error_msg, metrics = EXCLUDED.metrics,
    facts = coalesce(EXCLUDED.facts, l.facts), run_id = EXCLUDED.run_id, worker_id = EXCLUDED.worker_id,
    location = EXCLUDED.location
WHERE l.time <= EXCLUDED.time;

-- name: DigestSchedules :exec
-- Each schedule's (check and location's) last status and run time, its streak of consecutive
-- non-OK results, and its lease, released when the run it was granted for has reported. A
-- result belongs to the schedule of its location, or to the check's only schedule when any
-- worker may run it. Only results newer than the schedule's last run move its state, so a late
-- batch never rewinds it (it may still release a lease). A result with a location and no
-- worker is the location reporter's "no live worker" UNKNOWN: it is kept and shown, but moves
-- no schedule's state (DigestRuns still recomputes its check's state). @ok is probes.OK.
WITH x AS (
    SELECT r.workspace_id, r.check_id, s.location, r.time, r.status, r.run_id, n.newer,
           max(r.time) FILTER (WHERE r.status = sqlc.arg(ok)::smallint AND n.newer)
               OVER (PARTITION BY r.workspace_id, r.check_id, s.location) AS last_ok
    FROM check_results r
    JOIN check_schedules s ON s.workspace_id = r.workspace_id AND s.check_id = r.check_id AND s.location IN (r.location, '')
    CROSS JOIN LATERAL (SELECT s.last_run_at IS NULL OR r.time > s.last_run_at AS newer) n
    WHERE r.batch_id = ANY(@batch_ids::bigint[]) AND r.time BETWEEN @first_time AND @last_time
      AND (r.worker_id IS NOT NULL OR r.location = '')
), per AS (
    SELECT x.workspace_id, x.check_id, x.location,
           max(x.time) FILTER (WHERE x.newer) AS last_time,
           ((array_agg(x.status ORDER BY x.time DESC) FILTER (WHERE x.newer))[1])::smallint AS last_status,
           count(*) FILTER (WHERE x.newer AND x.status <> sqlc.arg(ok)::smallint AND (x.last_ok IS NULL OR x.time > x.last_ok))::integer AS trailing_failures,
           bool_and(x.last_ok IS NULL) AS all_failed,
           array_agg(x.run_id) FILTER (WHERE x.run_id IS NOT NULL)::uuid[] AS run_ids
    FROM x GROUP BY x.workspace_id, x.check_id, x.location
)
UPDATE check_schedules s SET
    last_status  = coalesce(per.last_status, s.last_status),
    last_run_at  = coalesce(per.last_time, s.last_run_at),
    fail_streak  = CASE WHEN per.last_time IS NULL THEN s.fail_streak
                        WHEN per.all_failed THEN s.fail_streak + per.trailing_failures
                        ELSE per.trailing_failures END,
    lease_until  = CASE WHEN s.lease_run_id = ANY(per.run_ids) THEN NULL ELSE s.lease_until END,
    leased_by    = CASE WHEN s.lease_run_id = ANY(per.run_ids) THEN NULL ELSE s.leased_by END,
    lease_run_id = CASE WHEN s.lease_run_id = ANY(per.run_ids) THEN NULL ELSE s.lease_run_id END
FROM per
WHERE s.workspace_id = per.workspace_id AND s.check_id = per.check_id AND s.location = per.location;

-- name: DigestRuns :many
-- After DigestSchedules, in the same transaction (so it reads the schedules as they are now):
-- the state of each check with results in the batches, from its schedules. The check's streak
-- is the confirm_locations-th longest of its schedules' streaks (so it reaches
-- failure_threshold only when that many locations each have), its status the
-- confirm_locations-th worst. For a check with locations, only schedules whose last run is
-- fresh (within one interval plus the timeout plus fresh_margin_sec of now) count, so a
-- location that stopped reporting confirms nothing either way; with fewer fresh schedules
-- than confirm_locations the streak is 0 and the status stays as it was.
-- Only checks whose state changes are written and returned, with their state before and
-- after, for the incident evaluator: at steady state a digest rewrites no checks row. The
-- state before needs no lock: only the digester (one at a time, TryDigestLock) writes it.
WITH touched AS (
    SELECT DISTINCT r.workspace_id, r.check_id FROM check_results r
    WHERE r.batch_id = ANY(@batch_ids::bigint[]) AND r.time BETWEEN @first_time AND @last_time
), agg AS (
    SELECT b.workspace_id, b.id AS check_id,
           ((array_agg(s.last_status ORDER BY s.last_status DESC) FILTER (WHERE s.last_status IS NOT NULL AND f.fresh))[b.confirm_locations])::smallint AS last_status,
           coalesce((array_agg(s.fail_streak ORDER BY s.fail_streak DESC) FILTER (WHERE f.fresh))[b.confirm_locations], 0)::integer AS fail_streak,
           b.last_status AS previous_status, b.fail_streak AS previous_streak
    FROM touched t
    JOIN checks b ON b.workspace_id = t.workspace_id AND b.id = t.check_id
    JOIN check_schedules s ON s.workspace_id = b.workspace_id AND s.check_id = b.id
    -- For a check with locations, only a schedule with a fresh last run counts (see above).
    CROSS JOIN LATERAL (SELECT cardinality(b.locations) = 0
                               OR s.last_run_at >= now() - make_interval(secs => b.interval_sec + b.timeout_sec + sqlc.arg(fresh_margin_sec)::integer) AS fresh) f
    GROUP BY b.workspace_id, b.id -- one checks row per group
)
UPDATE checks c SET
    last_status = coalesce(agg.last_status, c.last_status),
    fail_streak = agg.fail_streak
FROM agg
WHERE c.workspace_id = agg.workspace_id AND c.id = agg.check_id
  AND (agg.fail_streak <> c.fail_streak OR (agg.last_status IS NOT NULL AND agg.last_status IS DISTINCT FROM c.last_status))
RETURNING c.workspace_id, c.id AS check_id, c.host_id, c.failure_threshold,
          agg.previous_status, agg.previous_streak, c.last_status, c.fail_streak;

-- name: DigestWorkerRuns :exec
UPDATE workers w SET checks_executed = w.checks_executed + v.n
FROM (SELECT x.workspace_id, x.worker_id, count(*) AS n FROM check_results x
      WHERE x.batch_id = ANY(@batch_ids::bigint[]) AND x.time BETWEEN @first_time AND @last_time AND x.worker_id IS NOT NULL
      GROUP BY x.workspace_id, x.worker_id) AS v
WHERE w.workspace_id = v.workspace_id AND w.id = v.worker_id;

-- name: DeleteResultBatches :exec
DELETE FROM result_batches WHERE id = ANY(@batch_ids::bigint[]);
