-- +goose Up
-- Idempotency keys: the first response of a POST sent with an Idempotency-Key header, kept 24 h
-- so that a retry of the same request gets the same answer instead of acting twice. A row
-- with a NULL status is a request still in flight. Keys are per workspace.
CREATE TABLE idempotency_keys (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    key          text NOT NULL,
    method       text NOT NULL,
    path         text NOT NULL,
    body_sha256  bytea NOT NULL,
    status       integer,
    content_type text NOT NULL DEFAULT '',
    body         bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, key)
);

-- +goose Down
DROP TABLE idempotency_keys;
