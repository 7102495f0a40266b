-- Check results: partitions, batched writes from the runner, and the reads of the endpoints.

-- name: EnsurePartitions :one
SELECT secumon_ensure_partitions(@first_day::date, @last_day::date)::integer;

-- name: DropPartitionsBefore :one
SELECT secumon_drop_partitions_before(@cutoff::date)::integer;

-- name: UpsertLatest :exec
-- One row per check (the batch is deduplicated first); an older result never replaces a newer.
INSERT INTO check_latest AS l (workspace_id, check_id, host_id, time, status, latency_ms, output, error_msg, metrics, facts, run_id, worker_id)
SELECT v.workspace_id, v.check_id, v.host_id, v.time, v.status, v.latency_ms, v.output, v.error_msg, v.metrics, v.facts, v.run_id, v.worker_id
FROM (SELECT unnest(@workspace_ids::uuid[]) AS workspace_id, unnest(@check_ids::uuid[]) AS check_id,
             unnest(@host_ids::uuid[]) AS host_id, unnest(@times::timestamptz[]) AS time,
             unnest(@statuses::smallint[]) AS status, unnest(@latencies::float8[]) AS latency_ms,
             unnest(@outputs::text[]) AS output, unnest(@error_msgs::text[]) AS error_msg,
             unnest(@metrics::jsonb[]) AS metrics, unnest(@facts::jsonb[]) AS facts,
             nullif(unnest(@run_ids::uuid[]), '00000000-0000-0000-0000-000000000000'::uuid) AS run_id, unnest(@worker_ids::uuid[]) AS worker_id) AS v
WHERE EXISTS (SELECT 1 FROM checks c WHERE c.workspace_id = v.workspace_id AND c.id = v.check_id)
ON CONFLICT (workspace_id, check_id) DO UPDATE SET
    host_id = EXCLUDED.host_id, time = EXCLUDED.time, status = EXCLUDED.status, latency_ms = EXCLUDED.latency_ms,
    output = EXCLUDED.output, error_msg = EXCLUDED.error_msg, metrics = EXCLUDED.metrics,
    facts = coalesce(EXCLUDED.facts, l.facts), run_id = EXCLUDED.run_id, worker_id = EXCLUDED.worker_id
WHERE l.time <= EXCLUDED.time;

-- name: UpsertRollups :exec
-- Adds a batch's aggregates to the rollups; rows arrive sorted by key so that concurrent
-- writers lock them in the same order.
INSERT INTO check_rollups AS r (workspace_id, check_id, bucket_size, bucket, samples, ok, warning, critical, unknown, latency_sum, latency_min, latency_max)
SELECT unnest(@workspace_ids::uuid[]), unnest(@check_ids::uuid[]), unnest(@bucket_sizes::integer[]),
       unnest(@buckets::timestamptz[]), unnest(@samples::integer[]), unnest(@oks::integer[]),
       unnest(@warnings::integer[]), unnest(@criticals::integer[]), unnest(@unknowns::integer[]),
       unnest(@latency_sums::float8[]), unnest(@latency_mins::float8[]), unnest(@latency_maxs::float8[])
ON CONFLICT (workspace_id, check_id, bucket_size, bucket) DO UPDATE SET
    samples = r.samples + EXCLUDED.samples, ok = r.ok + EXCLUDED.ok, warning = r.warning + EXCLUDED.warning,
    critical = r.critical + EXCLUDED.critical, unknown = r.unknown + EXCLUDED.unknown,
    latency_sum = r.latency_sum + EXCLUDED.latency_sum,
    latency_min = least(r.latency_min, EXCLUDED.latency_min), latency_max = greatest(r.latency_max, EXCLUDED.latency_max);

-- name: RecordRuns :exec
-- Marks checks as run: last status and time, and releases the lease of the worker that ran them.
UPDATE checks c SET
    last_status = v.status,
    last_run_at = v.time,
    lease_until = CASE WHEN c.leased_by = v.worker_id THEN NULL ELSE c.lease_until END,
    leased_by   = CASE WHEN c.leased_by = v.worker_id THEN NULL ELSE c.leased_by END
FROM (SELECT unnest(@workspace_ids::uuid[]) AS workspace_id, unnest(@check_ids::uuid[]) AS check_id,
             unnest(@statuses::smallint[]) AS status, unnest(@times::timestamptz[]) AS time,
             unnest(@worker_ids::uuid[]) AS worker_id) AS v
WHERE c.workspace_id = v.workspace_id AND c.id = v.check_id
  AND (c.last_run_at IS NULL OR c.last_run_at <= v.time);

-- name: CountWorkerRuns :exec
UPDATE workers w SET checks_executed = w.checks_executed + v.n
FROM (SELECT unnest(@workspace_ids::uuid[]) AS workspace_id, unnest(@counts::bigint[]) AS n) AS v
WHERE w.workspace_id = v.workspace_id AND w.id = @worker_id;

-- name: DeleteCheckData :exec
-- Results have no foreign key (they are partitioned): deleting checks deletes them explicitly.
WITH gone_results AS (
    DELETE FROM check_results r WHERE r.workspace_id = @workspace_id AND r.check_id = ANY(@check_ids::uuid[])
), gone_samples AS (
    DELETE FROM snmp_samples s WHERE s.workspace_id = @workspace_id AND s.check_id = ANY(@check_ids::uuid[])
)
DELETE FROM check_rollups WHERE check_rollups.workspace_id = @workspace_id AND check_rollups.check_id = ANY(@check_ids::uuid[]);

-- name: ListHostCheckIDs :many
SELECT id FROM checks WHERE workspace_id = $1 AND host_id = $2;

-- name: CopyResults :copyfrom
INSERT INTO check_results (workspace_id, check_id, host_id, time, status, latency_ms, output, error_msg, metrics, run_id, worker_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11);

-- name: CopySnmpSamples :copyfrom
INSERT INTO snmp_samples (workspace_id, check_id, time, oid, name, instance, value)
VALUES ($1, $2, $3, $4, $5, $6, $7);
