-- +goose Up
-- Incidents with their timelines, alert policies, maintenance windows and storms.

-- Storms first: incidents point at the storm that grouped them.
CREATE TABLE storms (
    workspace_id       uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id                 uuid NOT NULL,
    started_at         timestamptz NOT NULL DEFAULT now(),
    last_alert_at      timestamptz NOT NULL DEFAULT now(),
    ended_at           timestamptz,
    status             text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'resolved')),
    total_alerts       integer NOT NULL DEFAULT 0,
    affected_hosts     integer NOT NULL DEFAULT 0,
    affected_checks    integer NOT NULL DEFAULT 0,
    root_cause_type    text NOT NULL DEFAULT 'unknown',
    root_cause_host_id uuid,
    confidence         double precision NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, id)
);
-- At most one active storm per workspace: concurrent evaluators cannot start two.
CREATE UNIQUE INDEX storms_one_active ON storms (workspace_id) WHERE status = 'active';
CREATE INDEX storms_list ON storms (workspace_id, started_at DESC, id DESC);

CREATE TABLE incidents (
    workspace_id    uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id              uuid NOT NULL,
    title           text NOT NULL,
    description     text NOT NULL DEFAULT '',
    severity        text NOT NULL CHECK (severity IN ('critical', 'major', 'minor', 'warning', 'info')),
    status          text NOT NULL DEFAULT 'investigating' CHECK (status IN ('investigating', 'acknowledged', 'resolved')),
    tags            jsonb NOT NULL DEFAULT '{}',
    host_id         uuid,
    check_id        uuid,
    storm_id        uuid,
    -- How often an automatic incident came back soon after resolving: past a limit it stops
    -- resolving by itself, so a flapping check does not open and close it in a loop.
    reopen_count    integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    acknowledged_at timestamptz,
    acknowledged_by text,
    resolved_at     timestamptz,
    resolved_by     text,
    PRIMARY KEY (workspace_id, id),
    -- Deleting a host or check keeps its incidents (they are history) but forgets the link.
    FOREIGN KEY (workspace_id, host_id) REFERENCES hosts (workspace_id, id) ON DELETE SET NULL (host_id),
    FOREIGN KEY (workspace_id, check_id) REFERENCES checks (workspace_id, id) ON DELETE SET NULL (check_id),
    FOREIGN KEY (workspace_id, storm_id) REFERENCES storms (workspace_id, id) ON DELETE SET NULL (storm_id)
);
CREATE INDEX incidents_list ON incidents (workspace_id, created_at DESC, id DESC);
CREATE INDEX incidents_open ON incidents (workspace_id, created_at DESC) WHERE status <> 'resolved';
CREATE INDEX incidents_check ON incidents (workspace_id, check_id, created_at DESC);
-- Never two open automatic incidents for one check, even with evaluators racing.
CREATE UNIQUE INDEX incidents_one_open_per_check ON incidents (workspace_id, check_id)
    WHERE status <> 'resolved' AND check_id IS NOT NULL AND tags->>'source' = 'auto';

CREATE TABLE incident_events (
    workspace_id uuid NOT NULL,
    id           uuid NOT NULL,
    incident_id  uuid NOT NULL,
    time         timestamptz NOT NULL DEFAULT clock_timestamp(),
    action       text NOT NULL,
    actor        text NOT NULL,
    note         text NOT NULL DEFAULT '',
    status       text NOT NULL,
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, incident_id) REFERENCES incidents (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX incident_events_timeline ON incident_events (workspace_id, incident_id, time, id);

CREATE TABLE alert_policies (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           uuid NOT NULL,
    name         text NOT NULL,
    description  text NOT NULL DEFAULT '',
    enabled      boolean NOT NULL DEFAULT true,
    cooldown_sec integer NOT NULL DEFAULT 300,
    conditions   jsonb NOT NULL DEFAULT '{}',
    channels     jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX alert_policies_list ON alert_policies (workspace_id, name, id);

-- When a policy last notified about an incident, for its cooldown.
CREATE TABLE alert_policy_sends (
    workspace_id uuid NOT NULL,
    policy_id    uuid NOT NULL,
    incident_id  uuid NOT NULL,
    last_sent_at timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, policy_id, incident_id),
    FOREIGN KEY (workspace_id, policy_id) REFERENCES alert_policies (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, incident_id) REFERENCES incidents (workspace_id, id) ON DELETE CASCADE
);

CREATE TABLE maintenance_windows (
    workspace_id       uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id                 uuid NOT NULL,
    title              text NOT NULL,
    description        text NOT NULL DEFAULT '',
    start_time         timestamptz NOT NULL,
    end_time           timestamptz NOT NULL CHECK (end_time > start_time),
    suppress_alerts    boolean NOT NULL DEFAULT true,
    notify_subscribers boolean NOT NULL DEFAULT true,
    affected_hosts     uuid[] NOT NULL DEFAULT '{}',
    status             text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'active', 'completed', 'cancelled')),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX maintenance_windows_list ON maintenance_windows (workspace_id, start_time DESC, id DESC);
CREATE INDEX maintenance_windows_pending ON maintenance_windows (status, start_time, end_time)
    WHERE status IN ('scheduled', 'active');

-- +goose Down
DROP TABLE maintenance_windows;
DROP TABLE alert_policy_sends;
DROP TABLE alert_policies;
DROP TABLE incident_events;
DROP TABLE incidents;
DROP TABLE storms;
