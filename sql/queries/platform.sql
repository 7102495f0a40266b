-- Workspaces, users, memberships and API tokens.

-- name: CreateWorkspace :one
INSERT INTO workspaces (id, slug, name) VALUES ($1, $2, $3) RETURNING *;

-- name: ListWorkspaces :many
SELECT * FROM workspaces ORDER BY created_at, slug;

-- name: GetWorkspaceBySlugOrID :one
SELECT * FROM workspaces WHERE slug = $1 OR id::text = $1;

-- name: CountWorkspaces :one
SELECT count(*) FROM workspaces;

-- name: CreateUser :one
INSERT INTO users (id, name) VALUES ($1, $2) RETURNING *;

-- name: UpsertMembership :exec
INSERT INTO memberships (workspace_id, user_id, role) VALUES ($1, $2, $3)
ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = EXCLUDED.role;

-- name: CreateAPIToken :one
INSERT INTO api_tokens (workspace_id, id, user_id, name, token_hash)
VALUES ($1, $2, $3, $4, $5) RETURNING *;

-- name: LookupToken :one
-- The token's own workspace and the user's role in it; revoked tokens never match.
SELECT t.workspace_id, t.id AS token_id, t.user_id, t.name AS token_name, t.token_hash, m.role
FROM api_tokens t
JOIN memberships m ON m.workspace_id = t.workspace_id AND m.user_id = t.user_id
WHERE t.token_hash = $1 AND t.revoked_at IS NULL;

-- name: GetMembershipRole :one
SELECT role FROM memberships WHERE workspace_id = $1 AND user_id = $2;

-- name: ListUserWorkspaces :many
SELECT w.id AS workspace_id, w.slug, w.name, m.role
FROM memberships m JOIN workspaces w ON w.id = m.workspace_id
WHERE m.user_id = $1
ORDER BY w.name, w.id;

-- name: TouchToken :exec
UPDATE api_tokens SET last_used_at = now()
WHERE workspace_id = $1 AND id = $2 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute');

-- name: ListAPITokens :many
SELECT t.workspace_id, t.id, t.name, t.created_at, t.last_used_at, t.revoked_at, m.role
FROM api_tokens t
LEFT JOIN memberships m ON m.workspace_id = t.workspace_id AND m.user_id = t.user_id
WHERE t.workspace_id = $1
ORDER BY t.created_at, t.id;

-- name: RevokeAPIToken :execrows
UPDATE api_tokens SET revoked_at = now()
WHERE workspace_id = $1 AND id = $2 AND revoked_at IS NULL;

-- name: LockBootstrap :exec
-- Serializes first-start bootstrapping between processes sharing one database.
SELECT pg_advisory_xact_lock(424242001);

-- name: GetWorkspace :one
SELECT * FROM workspaces WHERE id = $1;

-- name: GetWorkspaceMember :one
-- A user who is a member of the workspace (incident assignees must be).
SELECT u.id, u.name, m.role FROM memberships m JOIN users u ON u.id = m.user_id
WHERE m.workspace_id = $1 AND m.user_id = $2;
