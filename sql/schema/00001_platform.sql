-- +goose Up
-- Platform: workspaces, users, memberships and API tokens, then the inventory (hosts, checks,
-- workers). Tenant tables lead their keys and indexes with workspace_id so every query is
-- workspace-scoped and the schema stays ready for sharding on workspace_id.

CREATE TABLE workspaces (
    id         uuid PRIMARY KEY,
    slug       text NOT NULL UNIQUE,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Users span workspaces (a person can belong to several), so this table is global;
-- what a user may do lives in memberships, per workspace.
CREATE TABLE users (
    id         uuid PRIMARY KEY,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE memberships (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role         text NOT NULL CHECK (role IN ('owner', 'admin', 'operator', 'viewer')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

-- Only the SHA-256 of a token is stored; the token itself is shown once, at creation.
CREATE TABLE api_tokens (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           uuid NOT NULL,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL,
    token_hash   bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz,
    PRIMARY KEY (workspace_id, id)
);

CREATE TABLE hosts (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           uuid NOT NULL,
    name         text NOT NULL,
    hostname     text NOT NULL,
    host_type    text NOT NULL DEFAULT 'server',
    description  text NOT NULL DEFAULT '',
    tags         jsonb NOT NULL DEFAULT '{}',
    is_active    boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, id),
    UNIQUE (workspace_id, name)
);

CREATE TABLE checks (
    workspace_id      uuid NOT NULL,
    id                uuid NOT NULL,
    host_id           uuid NOT NULL,
    name              text NOT NULL,
    check_type        text NOT NULL CHECK (check_type IN ('ping', 'snmp', 'http', 'tcp', 'dns', 'tls')),
    config            jsonb NOT NULL DEFAULT '{}',
    interval_sec      integer NOT NULL DEFAULT 60,
    timeout_sec       integer NOT NULL DEFAULT 10,
    failure_threshold integer NOT NULL DEFAULT 2,
    severity          text,
    enabled           boolean NOT NULL DEFAULT true,
    last_status       smallint,
    last_run_at       timestamptz,
    next_run_at       timestamptz NOT NULL DEFAULT now(),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, id),
    UNIQUE (workspace_id, name),
    FOREIGN KEY (workspace_id, host_id) REFERENCES hosts (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX checks_host ON checks (workspace_id, host_id);

CREATE TABLE workers (
    workspace_id    uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id              uuid NOT NULL,
    name            text NOT NULL,
    location        text NOT NULL DEFAULT '',
    version         text NOT NULL DEFAULT '',
    checks_executed bigint NOT NULL DEFAULT 0,
    started_at      timestamptz NOT NULL DEFAULT now(),
    last_heartbeat  timestamptz NOT NULL DEFAULT now(),
    retired_at      timestamptz,
    PRIMARY KEY (workspace_id, id)
);

-- +goose Down
DROP TABLE workers;
DROP TABLE checks;
DROP TABLE hosts;
DROP TABLE api_tokens;
DROP TABLE memberships;
DROP TABLE users;
DROP TABLE workspaces;
