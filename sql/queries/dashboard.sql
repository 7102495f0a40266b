-- Counters of GET /status and GET /dashboard (and the live event stream, which re-reads the
-- dashboard on every change): counts over workspace-leading indexes, nothing that grows with
-- the results. @ok is probes.OK: a failing check is an enabled one whose last status is not OK.

-- name: StatusCounters :one
SELECT
    (SELECT count(*) FROM hosts h WHERE h.workspace_id = @workspace_id) AS hosts_total,
    (SELECT count(*) FROM hosts h WHERE h.workspace_id = @workspace_id AND h.is_active) AS hosts_active,
    (SELECT count(*) FROM checks c WHERE c.workspace_id = @workspace_id) AS checks_total,
    (SELECT count(*) FROM checks c WHERE c.workspace_id = @workspace_id AND c.enabled) AS checks_enabled,
    (SELECT count(*) FROM checks c WHERE c.workspace_id = @workspace_id AND c.enabled AND c.last_status <> sqlc.arg(ok)::smallint) AS checks_failing,
    (SELECT count(*) FROM incidents i WHERE i.workspace_id = @workspace_id AND i.status <> 'resolved') AS active_incidents,
    (SELECT count(*) FROM storms s WHERE s.workspace_id = @workspace_id AND s.status = 'active') AS active_storms,
    (SELECT count(*) FROM workers w WHERE w.workspace_id = @workspace_id AND w.retired_at IS NULL
        AND w.last_heartbeat > @heartbeat_since::timestamptz) AS workers;

-- name: DashboardCounters :one
SELECT
    (SELECT count(*) FROM hosts h WHERE h.workspace_id = @workspace_id) AS hosts_total,
    (SELECT count(*) FROM checks c WHERE c.workspace_id = @workspace_id AND c.enabled) AS checks_enabled,
    (SELECT count(*) FROM incidents i WHERE i.workspace_id = @workspace_id AND i.status <> 'resolved') AS incidents_open;

-- name: DashboardRecentIncidents :many
SELECT * FROM incidents WHERE workspace_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2;
