-- +goose Up
-- AI: the cost of every provider call, incident analysis sessions, and the host tags that AI
-- tagging wrote (so that re-tagging replaces its own tags and never a user's).

-- One row per provider call, whatever it was for: the bill. Hosts and sessions are referenced
-- without foreign keys on purpose: deleting a host keeps what tagging it cost.
CREATE TABLE ai_usage (
    workspace_id  uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id            uuid NOT NULL,
    time          timestamptz NOT NULL DEFAULT now(),
    purpose       text NOT NULL CHECK (purpose IN ('tag', 'analysis')),
    provider      text NOT NULL,
    model         text NOT NULL,
    input_tokens  bigint NOT NULL,
    output_tokens bigint NOT NULL,
    cost_usd      double precision NOT NULL,
    host_id       uuid,
    session_id    uuid,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX ai_usage_time ON ai_usage (workspace_id, time);
CREATE INDEX ai_usage_session ON ai_usage (workspace_id, session_id) WHERE session_id IS NOT NULL;

-- An incident's AI analysis mode. While status is 'active' a River job (server/domain/ai/analysis)
-- runs analysis steps; every other status is final and says why it ended.
CREATE TABLE ai_sessions (
    workspace_id   uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id             uuid NOT NULL,
    incident_id    uuid NOT NULL,
    provider       text NOT NULL,
    model          text NOT NULL,
    budget_usd     double precision NOT NULL CHECK (budget_usd > 0),
    spent_usd      double precision NOT NULL DEFAULT 0,
    calls          integer NOT NULL DEFAULT 0,
    input_tokens   bigint NOT NULL DEFAULT 0,
    output_tokens  bigint NOT NULL DEFAULT 0,
    justification  text NOT NULL,
    operator       text NOT NULL DEFAULT '',
    started_by     text NOT NULL,
    status         text NOT NULL DEFAULT 'active'
                   CHECK (status IN ('active', 'stopped', 'budget_exhausted', 'incident_resolved', 'failed')),
    -- Consecutive failed provider calls; past a limit the session ends as 'failed'.
    failures       integer NOT NULL DEFAULT 0,
    last_error     text NOT NULL DEFAULT '',
    started_at     timestamptz NOT NULL DEFAULT now(),
    ended_at       timestamptz,
    ended_by       text,
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, incident_id) REFERENCES incidents (workspace_id, id) ON DELETE CASCADE
);
-- One active session per incident, even with two requests racing.
CREATE UNIQUE INDEX ai_sessions_one_active ON ai_sessions (workspace_id, incident_id) WHERE status = 'active';
CREATE INDEX ai_sessions_incident ON ai_sessions (workspace_id, incident_id, started_at DESC);

-- What AI tagging last wrote into a host's tags ("ai:role" → "web-server"), and everything it
-- found with confidences. A key of hosts.tags under "ai:" whose value differs from this record
-- was set by a user and is left alone.
CREATE TABLE host_ai_tags (
    workspace_id uuid NOT NULL,
    host_id      uuid NOT NULL,
    written      jsonb NOT NULL DEFAULT '{}',
    found        jsonb NOT NULL DEFAULT '[]',
    confidence   double precision NOT NULL,
    provider     text NOT NULL,
    model        text NOT NULL,
    tagged_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, host_id),
    FOREIGN KEY (workspace_id, host_id) REFERENCES hosts (workspace_id, id) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE host_ai_tags;
DROP TABLE ai_sessions;
DROP TABLE ai_usage;
