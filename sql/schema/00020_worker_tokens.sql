-- +goose Up
-- Worker tokens let remote workers (`secumon worker --server … --token wrk_…`) claim checks,
-- heartbeat and send results over the API without database credentials. A workspace token
-- serves that workspace only; an installation-wide token (workspace_id NULL, made by the
-- operator on the command line, never by the API) serves every workspace. Only the SHA-256
-- of a token is stored.
CREATE TABLE worker_tokens (
    id           uuid NOT NULL PRIMARY KEY,
    workspace_id uuid REFERENCES workspaces (id) ON DELETE CASCADE,
    name         text NOT NULL,
    token_hash   bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX worker_tokens_workspace ON worker_tokens (workspace_id, created_at);

-- The idempotency keys of an installation-wide worker token's result batches belong to no
-- workspace: they are kept under the nil workspace id (and expire by age like every key).
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_workspace_id_fkey;

-- +goose Down
DELETE FROM idempotency_keys WHERE workspace_id NOT IN (SELECT id FROM workspaces);
ALTER TABLE idempotency_keys ADD CONSTRAINT idempotency_keys_workspace_id_fkey
    FOREIGN KEY (workspace_id) REFERENCES workspaces (id) ON DELETE CASCADE;
DROP TABLE worker_tokens;
