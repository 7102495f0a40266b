-- Worker tokens: the credentials of remote workers (see 00019_worker_tokens.sql).

-- name: CreateWorkerToken :one
INSERT INTO worker_tokens (id, workspace_id, name, token_hash, location)
VALUES (@id, sqlc.narg(workspace_id), @name, @token_hash, sqlc.narg(location))
RETURNING id, workspace_id, name, created_at;

-- name: ListWorkerTokens :many
SELECT id, name, location, created_at, last_used_at, revoked_at FROM worker_tokens
WHERE workspace_id = @workspace_id
ORDER BY created_at, id;

-- name: RevokeWorkerToken :execrows
UPDATE worker_tokens SET revoked_at = now()
WHERE workspace_id = @workspace_id AND id = @id AND revoked_at IS NULL;

-- name: LookupWorkerToken :one
-- A live token's scope: its workspace, or NULL for an installation-wide token, and the
-- location it is pinned to (NULL: not pinned).
SELECT id, workspace_id, name, location, token_hash FROM worker_tokens
WHERE token_hash = $1 AND revoked_at IS NULL;

-- name: TouchWorkerToken :exec
UPDATE worker_tokens SET last_used_at = now()
WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute');

-- name: RegisterWorkerIn :exec
-- A remote worker's registration and heartbeat in its token's one workspace. A workspace
-- that retired it keeps it retired.
INSERT INTO workers (workspace_id, id, name, location, version)
VALUES (@workspace_id, @id, @name, @location, @version)
ON CONFLICT (workspace_id, id) DO UPDATE SET
    last_heartbeat = now(), name = EXCLUDED.name, location = EXCLUDED.location, version = EXCLUDED.version;

-- name: ChecksInScope :many
-- The checks among check_ids, within one workspace when scope is set: what a worker's
-- result batch may name (the caller matches each result's workspace too).
SELECT c.workspace_id, c.id, c.host_id
FROM checks c
WHERE c.id = ANY(@check_ids::uuid[])
  AND (sqlc.narg(scope)::uuid IS NULL OR c.workspace_id = sqlc.narg(scope)::uuid);
