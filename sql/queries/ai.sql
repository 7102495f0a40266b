-- AI: provider usage, host tagging and incident analysis sessions.

-- name: RecordAIUsage :exec
INSERT INTO ai_usage (workspace_id, id, purpose, provider, model, input_tokens, output_tokens, cost_usd, host_id, session_id)
VALUES (@workspace_id, @id, @purpose, @provider, @model, @input_tokens, @output_tokens, @cost_usd, sqlc.narg('host_id'), sqlc.narg('session_id'));

-- name: TryLockAITagging :one
-- Session-level advisory lock: one bulk tagging run per workspace at a time. Taken and
-- released on the same connection.
SELECT pg_try_advisory_lock(hashtextextended('secumon.ai_tag:' || sqlc.arg(workspace_id)::uuid::text, 0));

-- name: UnlockAITagging :exec
SELECT pg_advisory_unlock(hashtextextended('secumon.ai_tag:' || sqlc.arg(workspace_id)::uuid::text, 0));

-- name: AITagCandidates :many
-- Hosts for a bulk tagging run: never tagged first, then the least recently tagged, so that
-- repeated runs over an inventory larger than one run's limit cover all of it.
SELECT h.id, h.name FROM hosts h
LEFT JOIN host_ai_tags t ON t.workspace_id = h.workspace_id AND t.host_id = h.id
WHERE h.workspace_id = @workspace_id AND (NOT @active_only::boolean OR h.is_active)
ORDER BY t.tagged_at NULLS FIRST, h.name, h.id
LIMIT @max_rows;

-- name: HostChecksForAI :many
-- A host's checks with their latest result: what AI knows about the host.
SELECT c.id, c.name, c.check_type, c.config, c.enabled,
       l.status AS latest_status, l.time AS latest_time, l.output AS latest_output,
       l.error_msg AS latest_error, l.facts AS latest_facts
FROM checks c
LEFT JOIN check_latest l ON l.workspace_id = c.workspace_id AND l.check_id = c.id
WHERE c.workspace_id = @workspace_id AND c.host_id = @host_id
ORDER BY c.name, c.id
LIMIT @max_rows;

-- name: LockHostForAITag :one
SELECT * FROM hosts WHERE workspace_id = $1 AND id = $2 FOR UPDATE;

-- name: GetHostAITags :one
SELECT * FROM host_ai_tags WHERE workspace_id = $1 AND host_id = $2;

-- name: SetHostTags :one
UPDATE hosts SET tags = @tags, updated_at = now()
WHERE workspace_id = @workspace_id AND id = @id
RETURNING *;

-- name: UpsertHostAITags :exec
INSERT INTO host_ai_tags (workspace_id, host_id, written, found, confidence, provider, model, tagged_at)
VALUES (@workspace_id, @host_id, @written, @found, @confidence, @provider, @model, now())
ON CONFLICT (workspace_id, host_id) DO UPDATE SET
    written = excluded.written, found = excluded.found, confidence = excluded.confidence,
    provider = excluded.provider, model = excluded.model, tagged_at = excluded.tagged_at;

-- name: StartAISession :one
-- Starts an incident's AI session unless one is active already (then no row).
INSERT INTO ai_sessions (workspace_id, id, incident_id, provider, model, budget_usd, justification, operator, started_by)
VALUES (@workspace_id, @id, @incident_id, @provider, @model, @budget_usd, @justification, @operator, @started_by)
ON CONFLICT (workspace_id, incident_id) WHERE status = 'active' DO NOTHING
RETURNING *;

-- name: LockAISession :one
SELECT * FROM ai_sessions WHERE workspace_id = $1 AND id = $2 FOR UPDATE;

-- name: LockIncidentOfAISession :one
-- Locks the incident of a session. Everything that changes a session locks its incident
-- first, then the session (as starting one does), so they never deadlock.
SELECT i.* FROM incidents i
WHERE i.workspace_id = $1 AND i.id = (SELECT s.incident_id FROM ai_sessions s WHERE s.workspace_id = $1 AND s.id = $2)
FOR UPDATE OF i;

-- name: LockActiveAISession :one
SELECT * FROM ai_sessions WHERE workspace_id = $1 AND incident_id = $2 AND status = 'active' FOR UPDATE;

-- name: LatestAISession :one
SELECT * FROM ai_sessions WHERE workspace_id = $1 AND incident_id = $2
ORDER BY started_at DESC, id DESC
LIMIT 1;

-- name: EndAISession :one
UPDATE ai_sessions SET status = @status, ended_at = now(), ended_by = @ended_by
WHERE workspace_id = @workspace_id AND id = @id AND status = 'active'
RETURNING *;

-- name: AddAISessionSpend :one
-- Counts one paid provider call against the session (whatever its status: the money is
-- spent even when the session ended while the call ran). Only a successful call resets the
-- failures: a paid but unusable answer is still a failure in a row.
UPDATE ai_sessions SET
    spent_usd     = spent_usd + @cost_usd,
    calls         = calls + 1,
    input_tokens  = input_tokens + @input_tokens,
    output_tokens = output_tokens + @output_tokens,
    failures      = CASE WHEN @succeeded::boolean THEN 0 ELSE failures END
WHERE workspace_id = @workspace_id AND id = @id
RETURNING *;

-- name: AddAISessionFailure :one
UPDATE ai_sessions SET failures = failures + 1, last_error = @last_error
WHERE workspace_id = @workspace_id AND id = @id
RETURNING *;

-- name: FailingChecksForAI :many
-- The workspace's checks whose latest result is not OK (@ok is probes.OK), the given host's
-- first, newest first.
SELECT c.id, c.name, c.check_type, h.id AS host_id, h.name AS host_name,
       l.status, l.time, l.output, l.error_msg
FROM check_latest l
JOIN checks c ON c.workspace_id = l.workspace_id AND c.id = l.check_id
JOIN hosts h ON h.workspace_id = c.workspace_id AND h.id = c.host_id
WHERE l.workspace_id = @workspace_id AND l.status <> sqlc.arg(ok)::smallint AND c.enabled
ORDER BY (h.id = sqlc.narg('host_id')::uuid) IS TRUE DESC, l.time DESC, c.id
LIMIT @max_rows;

-- name: StormForAI :one
-- The storm that grouped the incident, else the workspace's active storm (read only).
SELECT s.*, coalesce(h.name, '')::text AS root_cause_host_name FROM storms s
LEFT JOIN hosts h ON h.workspace_id = s.workspace_id AND h.id = s.root_cause_host_id
WHERE s.workspace_id = @workspace_id AND (s.id = sqlc.narg('storm_id')::uuid OR s.status = 'active')
ORDER BY (s.id = sqlc.narg('storm_id')::uuid) IS TRUE DESC, s.started_at DESC
LIMIT 1;
