-- Check results: partitions, batched writes from the runner, and the reads of the endpoints.

-- name: EnsurePartitions :one
SELECT secumon_ensure_partitions(@first_day::date, @last_day::date)::integer;

-- name: DropPartitionsBefore :one
SELECT secumon_drop_partitions_before(@cutoff::date)::integer;

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
INSERT INTO check_results (workspace_id, check_id, host_id, time, status, latency_ms, output, error_msg, metrics, facts, run_id, worker_id, batch_id, location)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14);

-- name: CopySnmpSamples :copyfrom
INSERT INTO snmp_samples (workspace_id, check_id, time, oid, name, instance, value)
VALUES ($1, $2, $3, $4, $5, $6, $7);
