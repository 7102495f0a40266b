-- Alert policies, their cooldowns, maintenance windows and storms as the evaluator sees them.

-- name: CreateAlertPolicy :one
INSERT INTO alert_policies (workspace_id, id, name, description, enabled, cooldown_sec, conditions, channels)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING *;

-- name: GetAlertPolicy :one
SELECT * FROM alert_policies WHERE workspace_id = $1 AND id = $2;

-- name: ListAlertPolicies :many
SELECT * FROM alert_policies
WHERE workspace_id = @workspace_id
  AND (sqlc.narg('after_name')::text IS NULL OR (name, id) > (sqlc.narg('after_name')::text, @after_id::uuid))
ORDER BY name, id
LIMIT @max_rows;

-- name: CountAlertPolicies :one
SELECT count(*) FROM alert_policies WHERE workspace_id = $1;

-- name: UpdateAlertPolicy :one
-- Partial update: a NULL argument keeps the column's value (name is always given).
UPDATE alert_policies SET
    name         = @name,
    description  = coalesce(sqlc.narg('description'), description),
    enabled      = coalesce(sqlc.narg('enabled'), enabled),
    cooldown_sec = coalesce(sqlc.narg('cooldown_sec'), cooldown_sec),
    conditions   = coalesce(sqlc.narg('conditions'), conditions),
    channels     = coalesce(sqlc.narg('channels'), channels),
    updated_at   = now()
WHERE workspace_id = @workspace_id AND id = @id
RETURNING *;

-- name: DeleteAlertPolicy :execrows
DELETE FROM alert_policies WHERE workspace_id = $1 AND id = $2;

-- name: EnabledAlertPolicies :many
SELECT * FROM alert_policies WHERE workspace_id = $1 AND enabled ORDER BY name, id;

-- name: ClaimPolicySend :one
-- Records a send of @policy_id about @incident_id unless its cooldown still runs; returns
-- whether this caller may send (the row lock serialises concurrent evaluators).
INSERT INTO alert_policy_sends AS s (workspace_id, policy_id, incident_id, last_sent_at)
VALUES (@workspace_id, @policy_id, @incident_id, now())
ON CONFLICT (workspace_id, policy_id, incident_id) DO UPDATE SET last_sent_at = now()
WHERE s.last_sent_at <= now() - make_interval(secs => sqlc.arg(cooldown_sec)::integer)
RETURNING true AS claimed;

-- name: HostForAlert :one
SELECT id, name, hostname, tags FROM hosts WHERE workspace_id = $1 AND id = $2;

-- name: CheckForAlert :one
SELECT id, name, check_type, severity, failure_threshold, locations, confirm_locations FROM checks WHERE workspace_id = $1 AND id = $2;

-- name: HostInActiveMaintenance :one
-- Whether a window suppressing alerts covers the host now (by status, or by time for a
-- window whose automatic start has not been applied yet).
SELECT EXISTS (
    SELECT 1 FROM maintenance_windows
    WHERE workspace_id = @workspace_id AND suppress_alerts AND @host_id::uuid = ANY(affected_hosts)
      AND (status = 'active' OR (status = 'scheduled' AND start_time <= now() AND end_time > now()))
)::boolean;

-- name: PolicyNotifiedAbout :one
SELECT EXISTS (SELECT 1 FROM alert_policy_sends WHERE workspace_id = $1 AND policy_id = $2 AND incident_id = $3)::boolean;
