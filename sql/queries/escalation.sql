-- Escalation policies and the steps escalations fired.

-- name: CreateEscalationPolicy :one
INSERT INTO escalation_policies (workspace_id, id, name, description, repeat, reminder_sec, levels)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING *;

-- name: GetEscalationPolicy :one
SELECT * FROM escalation_policies WHERE workspace_id = $1 AND id = $2;

-- name: ListEscalationPolicies :many
SELECT * FROM escalation_policies
WHERE workspace_id = @workspace_id
  AND (sqlc.narg('after_name')::text IS NULL OR (name, id) > (sqlc.narg('after_name')::text, @after_id::uuid))
ORDER BY name, id
LIMIT @max_rows;

-- name: CountEscalationPolicies :one
SELECT count(*) FROM escalation_policies WHERE workspace_id = $1;

-- name: UpdateEscalationPolicy :one
-- Partial update: a NULL argument keeps the column's value (name is always given);
-- clear_reminder removes the reminder.
UPDATE escalation_policies SET
    name         = @name,
    description  = coalesce(sqlc.narg('description'), description),
    repeat       = coalesce(sqlc.narg('repeat'), repeat),
    reminder_sec = CASE WHEN @clear_reminder::boolean THEN NULL ELSE coalesce(sqlc.narg('reminder_sec'), reminder_sec) END,
    levels       = coalesce(sqlc.narg('levels'), levels),
    updated_at   = now()
WHERE workspace_id = @workspace_id AND id = @id
RETURNING *;

-- name: DeleteEscalationPolicy :execrows
DELETE FROM escalation_policies WHERE workspace_id = $1 AND id = $2;

-- name: SetAlertPolicyEscalation :exec
UPDATE alert_policies SET escalation_policy_id = sqlc.narg('escalation_policy_id'), updated_at = now()
WHERE workspace_id = @workspace_id AND id = @id;

-- name: NextEscalationRun :one
-- The run number a new escalation of the incident by the policy takes.
SELECT coalesce(max(run) + 1, 0)::integer FROM incident_escalations
WHERE workspace_id = $1 AND incident_id = $2 AND policy_id = $3;

-- name: CurrentEscalationRun :one
-- The latest run of the incident's escalation by the policy (-1: none).
SELECT coalesce(max(run), -1)::integer FROM incident_escalations
WHERE workspace_id = $1 AND incident_id = $2 AND policy_id = $3;

-- name: IncidentEscalationPolicies :many
-- The escalation policies that escalated the incident, for a restart after an expired
-- acknowledgement.
SELECT DISTINCT policy_id FROM incident_escalations WHERE workspace_id = $1 AND incident_id = $2;

-- name: ClaimEscalationStep :execrows
-- Records a step as fired; 0 rows when it fired already (a retried or duplicated job).
INSERT INTO incident_escalations (workspace_id, incident_id, policy_id, run, step, pass, level, reminder, note)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT DO NOTHING;

-- name: ListIncidentEscalations :many
SELECT * FROM incident_escalations WHERE workspace_id = $1 AND incident_id = $2 ORDER BY fired_at, run, step;

-- name: SetIncidentAckExpiry :exec
UPDATE incidents SET ack_expires_at = sqlc.narg('ack_expires_at') WHERE workspace_id = @workspace_id AND id = @id;
