-- Hosts. Lists are keyset-paginated on (name, id).

-- name: CreateHost :one
INSERT INTO hosts (workspace_id, id, name, hostname, host_type, description, tags, is_active)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING *;

-- name: GetHost :one
SELECT * FROM hosts WHERE workspace_id = $1 AND id = $2;

-- name: ListHosts :many
SELECT * FROM hosts
WHERE workspace_id = @workspace_id
  AND (sqlc.narg('active')::boolean IS NULL OR is_active = sqlc.narg('active'))
  AND (sqlc.narg('after_name')::text IS NULL OR (name, id) > (sqlc.narg('after_name')::text, @after_id::uuid))
ORDER BY name, id
LIMIT @max_rows;

-- name: CountHosts :one
SELECT count(*) FROM hosts
WHERE workspace_id = @workspace_id
  AND (sqlc.narg('active')::boolean IS NULL OR is_active = sqlc.narg('active'));

-- name: UpdateHost :one
-- Partial update: a NULL argument keeps the column's value.
UPDATE hosts SET
    name        = coalesce(sqlc.narg('name'), name),
    hostname    = coalesce(sqlc.narg('hostname'), hostname),
    host_type   = coalesce(sqlc.narg('host_type'), host_type),
    description = coalesce(sqlc.narg('description'), description),
    tags        = coalesce(sqlc.narg('tags'), tags),
    is_active   = coalesce(sqlc.narg('is_active'), is_active),
    updated_at  = now()
WHERE workspace_id = @workspace_id AND id = @id
RETURNING *;

-- name: DeleteHost :execrows
DELETE FROM hosts WHERE workspace_id = $1 AND id = $2;
