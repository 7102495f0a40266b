-- Idempotency keys (server/edge/idempotency).

-- name: ClaimIdempotencyKey :one
-- Records a request as in flight under its key. A row already there is taken over only when
-- it has expired, or when it is an in-flight request abandoned long ago (its process died);
-- otherwise nothing is returned and the caller reads the existing row.
INSERT INTO idempotency_keys AS k (workspace_id, key, method, path, body_sha256)
VALUES (@workspace_id, @key, @method, @path, @body_sha256)
ON CONFLICT (workspace_id, key) DO UPDATE SET
    method = excluded.method, path = excluded.path, body_sha256 = excluded.body_sha256,
    status = NULL, content_type = '', body = NULL, created_at = now()
WHERE k.created_at < @expired_before::timestamptz
   OR (k.status IS NULL AND k.created_at < @abandoned_before::timestamptz)
RETURNING k.created_at;

-- name: GetIdempotencyKey :one
SELECT * FROM idempotency_keys WHERE workspace_id = @workspace_id AND key = @key;

-- name: CompleteIdempotencyKey :exec
-- Only the claim that is still the key's holder (same created_at) records its response: a
-- request taken over as abandoned cannot overwrite its successor's row.
UPDATE idempotency_keys SET status = @status, content_type = @content_type, body = @body
WHERE workspace_id = @workspace_id AND key = @key AND status IS NULL AND created_at = @claimed_at;

-- name: ReleaseIdempotencyKey :exec
-- Forgets an in-flight key whose request failed (5xx), so that a retry runs again.
DELETE FROM idempotency_keys WHERE workspace_id = @workspace_id AND key = @key AND status IS NULL AND created_at = @claimed_at;

-- name: PurgeIdempotencyKeys :execrows
DELETE FROM idempotency_keys WHERE created_at < @expired_before::timestamptz;
