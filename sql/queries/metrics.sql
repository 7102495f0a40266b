-- Reads of the results: latest per check, time series of one check (raw results or rollups),
-- host uptime from the 1 h rollups, SNMP series and the SNMP device inventory. Every query
-- takes workspace_id first; long windows read rollups, never raw rows.
--
-- Windows are half-open, [from, to). A rollup bucket belongs to a window when it overlaps it
-- (bucket start < to and bucket end > from): a bucket is never split, so the first and last
-- buckets may hold results just outside the window.

-- name: CheckExists :one
SELECT EXISTS (SELECT 1 FROM checks WHERE workspace_id = $1 AND id = $2);

-- name: HostExists :one
SELECT EXISTS (SELECT 1 FROM hosts WHERE workspace_id = $1 AND id = $2);

-- name: ListHostLatestResults :many
-- The latest result of each check of the host (checks never run have no row), by check name.
SELECT l.check_id, l.host_id, l.time, l.status, l.latency_ms, l.output, l.error_msg, l.metrics, l.run_id, l.worker_id, l.location
FROM checks c
JOIN check_latest l ON l.workspace_id = c.workspace_id AND l.check_id = c.id
WHERE c.workspace_id = @workspace_id AND c.host_id = @host_id
ORDER BY c.name, c.id;

-- name: GetCheckLatestResult :one
SELECT check_id, host_id, time, status, latency_ms, output, error_msg, metrics, run_id, worker_id, location
FROM check_latest
WHERE workspace_id = $1 AND check_id = $2;

-- name: ListHostLatestResultsAt :many
-- ListHostLatestResults from one location: each check's newest result measured there, read
-- from the raw results since since (the caller bounds the look-back), by check name.
SELECT r.check_id, r.host_id, r.time, r.status, r.latency_ms, r.output, r.error_msg, r.metrics, r.run_id, r.worker_id, r.location
FROM checks c
CROSS JOIN LATERAL (
    SELECT x.check_id, x.host_id, x.time, x.status, x.latency_ms, x.output, x.error_msg, x.metrics, x.run_id, x.worker_id, x.location
    FROM check_results x
    WHERE x.workspace_id = c.workspace_id AND x.check_id = c.id AND x.location = @location
      AND x.time >= @since::timestamptz
    ORDER BY x.time DESC LIMIT 1
) r
WHERE c.workspace_id = @workspace_id AND c.host_id = @host_id
  AND (sqlc.narg('check_id')::uuid IS NULL OR c.id = sqlc.narg('check_id'))
ORDER BY c.name, c.id;

-- name: ListCheckResultsRaw :many
-- Raw results, oldest first, of every location or of one (location ''); the caller asks for
-- one row more than it accepts to detect overflow.
SELECT time, status, latency_ms
FROM check_results
WHERE workspace_id = @workspace_id AND check_id = @check_id
  AND time >= @from_time::timestamptz AND time < @to_time::timestamptz
  AND (@location::text = '' OR location = @location::text)
ORDER BY time
LIMIT @max_rows;

-- name: ListCheckBucketsAt :many
-- The rollups' buckets (aligned on the Unix epoch, UTC) computed from the raw results of one
-- location: rollups are per check, so a location filter reads raw rows (the caller bounds the
-- window). The caller widens [from, to) to whole buckets, so that buckets are whole, as the
-- rollups' are.
SELECT date_bin(make_interval(secs => sqlc.arg(bucket_size)::integer), time, timestamptz '1970-01-01 00:00:00+00')::timestamptz AS bucket,
       count(*)::integer AS samples,
       count(*) FILTER (WHERE status = sqlc.arg(ok)::smallint)::integer AS ok,
       count(*) FILTER (WHERE status = sqlc.arg(warning)::smallint)::integer AS warning,
       count(*) FILTER (WHERE status = sqlc.arg(critical)::smallint)::integer AS critical,
       count(*) FILTER (WHERE status NOT IN (sqlc.arg(ok)::smallint, sqlc.arg(warning)::smallint, sqlc.arg(critical)::smallint))::integer AS unknown,
       min(latency_ms)::float8 AS min_latency_ms, avg(latency_ms)::float8 AS avg_latency_ms, max(latency_ms)::float8 AS max_latency_ms
FROM check_results
WHERE workspace_id = @workspace_id AND check_id = @check_id AND location = @location
  AND time >= @from_time::timestamptz AND time < @to_time::timestamptz
GROUP BY 1
ORDER BY 1
LIMIT @max_rows;

-- name: ListCheckRollups :many
-- Buckets of one size (60, 3600 or 86400 s) overlapping [from, to), oldest first.
SELECT bucket, samples, ok, warning, critical, unknown,
       latency_min AS min_latency_ms, (latency_sum / samples)::float8 AS avg_latency_ms, latency_max AS max_latency_ms
FROM check_rollups
WHERE workspace_id = @workspace_id AND check_id = @check_id AND bucket_size = sqlc.arg(bucket_size)::integer
  AND bucket > sqlc.arg(from_time)::timestamptz - sqlc.arg(bucket_size)::integer * interval '1 second'
  AND bucket < @to_time::timestamptz
ORDER BY bucket
LIMIT @max_rows;

-- name: ListCheckRollups5Min :many
-- 5-minute buckets (aligned on the Unix epoch, UTC) summed from the 1-minute rollups. Every
-- 5-minute bucket overlapping [from, to) is whole: its 1-minute buckets up to its end are read.
SELECT date_bin('5 minutes', bucket, '1970-01-01T00:00:00Z'::timestamptz)::timestamptz AS bin,
       sum(samples)::integer AS samples, sum(ok)::integer AS ok, sum(warning)::integer AS warning,
       sum(critical)::integer AS critical, sum(unknown)::integer AS unknown,
       min(latency_min)::float8 AS min_latency_ms, (sum(latency_sum) / sum(samples))::float8 AS avg_latency_ms,
       max(latency_max)::float8 AS max_latency_ms
FROM check_rollups
WHERE workspace_id = @workspace_id AND check_id = @check_id AND bucket_size = 60
  AND bucket >= date_bin('5 minutes', @from_time::timestamptz, '1970-01-01T00:00:00Z'::timestamptz)
  AND bucket < sqlc.arg(to_time)::timestamptz + interval '5 minutes'
  AND date_bin('5 minutes', bucket, '1970-01-01T00:00:00Z'::timestamptz) < @to_time::timestamptz
GROUP BY 1
ORDER BY 1
LIMIT @max_rows;

-- name: HostPingUptime :one
-- OK and total ping results of the ping checks of the host, summed over the 1 h rollups that overlap
-- the window: the oldest bucket may start up to an hour before it (see the top of this file).
SELECT coalesce(sum(r.ok), 0)::bigint AS ok, coalesce(sum(r.samples), 0)::bigint AS samples
FROM checks c
JOIN check_rollups r ON r.workspace_id = c.workspace_id AND r.check_id = c.id
WHERE c.workspace_id = @workspace_id AND c.host_id = @host_id AND c.check_type = 'ping'
  AND r.bucket_size = 3600
  AND r.bucket > sqlc.arg(from_time)::timestamptz - interval '1 hour' AND r.bucket < @to_time::timestamptz;

-- name: ListHostSnmpChecks :many
SELECT id, name FROM checks
WHERE workspace_id = @workspace_id AND host_id = @host_id AND check_type = 'snmp'
ORDER BY name, id;

-- name: ListHostSnmpSamples :many
-- The newest max_points samples per snmp check of the host in [from, to). Rows come newest
-- first per check; the caller reverses each check's series.
SELECT c.id AS check_id, s.time, s.oid, s.name, s.instance, s.value
FROM checks c
CROSS JOIN LATERAL (
    SELECT x.time, x.oid, x.name, x.instance, x.value
    FROM snmp_samples x
    WHERE x.workspace_id = c.workspace_id AND x.check_id = c.id
      AND x.time >= @from_time::timestamptz AND x.time < @to_time::timestamptz
    ORDER BY x.time DESC, x.oid DESC, x.instance DESC
    LIMIT @max_points::integer
) s
WHERE c.workspace_id = @workspace_id AND c.host_id = @host_id AND c.check_type = 'snmp'
ORDER BY c.id, s.time DESC, s.oid DESC, s.instance DESC;

-- name: ListSnmpDevices :many
-- One row per snmp check: its target (the config's host, else the host's hostname) and what its
-- latest result reported.
SELECT c.id, c.host_id, c.name,
       coalesce(nullif(c.config->>'host', ''), h.hostname)::text AS hostname,
       coalesce(l.facts->>'sysDescr', '')::text AS sys_descr,
       coalesce(l.facts->>'sysName', '')::text AS sys_name,
       l.time AS last_seen, l.metrics
FROM checks c
JOIN hosts h ON h.workspace_id = c.workspace_id AND h.id = c.host_id
LEFT JOIN check_latest l ON l.workspace_id = c.workspace_id AND l.check_id = c.id
WHERE c.workspace_id = @workspace_id AND c.check_type = 'snmp'
ORDER BY c.name, c.id;
