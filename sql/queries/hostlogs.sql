-- Correlated host logs: the syslog receiver's host index and batched writes, and the read of
-- GET /hosts/{id}/logs. Windows are half-open, [from, to).

-- name: ListSyslogHosts :many
-- The hosts of the workspaces the receiver serves (NULL: every workspace), for its in-memory
-- index. A syslog sender does not say which workspace it belongs to, so the receiver matches
-- it against the hosts of all the workspaces it serves.
SELECT workspace_id, id, name, hostname FROM hosts
WHERE sqlc.narg('workspaces')::uuid[] IS NULL OR workspace_id = ANY(sqlc.narg('workspaces')::uuid[]);

-- name: SyslogHostsVersion :one
-- A cheap fingerprint of the hosts table: the index is reloaded only when it changes (an
-- insert or update moves max(updated_at), a delete changes the count).
SELECT count(*)::bigint AS hosts, coalesce(max(updated_at), 'epoch'::timestamptz)::timestamptz AS updated
FROM hosts
WHERE sqlc.narg('workspaces')::uuid[] IS NULL OR workspace_id = ANY(sqlc.narg('workspaces')::uuid[]);

-- name: CopyHostLogs :copyfrom
INSERT INTO host_logs (workspace_id, host_id, time, received_at, source_addr, hostname, app_name, proc_id, msg_id, facility, severity, message, structured)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13);

-- name: ListHostLogs :many
-- Newest first; ties keep the order of arrival, newest first too.
SELECT time, received_at, source_addr, hostname, app_name, proc_id, msg_id, facility, severity, message, structured
FROM host_logs
WHERE workspace_id = @workspace_id AND host_id = @host_id
  AND time >= @from_time AND time < @to_time
ORDER BY time DESC, received_at DESC
LIMIT @max_rows;
