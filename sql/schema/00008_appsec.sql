-- +goose Up
-- Application-security posture: scanner reports (Trivy, SARIF) ingested into projects and
-- their findings, and one snapshot of each project's status counts per day for the 30-day trend.

CREATE TABLE appsec_projects (
    workspace_id   uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id             uuid NOT NULL,
    name           text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_report_at timestamptz,
    PRIMARY KEY (workspace_id, id),
    UNIQUE (workspace_id, name)
);

-- One row per ingested report: who posted it, what it was, and what it changed. The report
-- itself is not kept: its findings are.
CREATE TABLE appsec_reports (
    workspace_id        uuid NOT NULL,
    id                  uuid NOT NULL,
    project_id          uuid NOT NULL,
    format              text NOT NULL CHECK (format IN ('trivy', 'sarif')),
    tool                text NOT NULL,
    tool_version        text NOT NULL DEFAULT '',
    artifact            text NOT NULL DEFAULT '',
    uploaded_by         text NOT NULL DEFAULT '',
    uploaded_by_user_id uuid,
    created_at          timestamptz NOT NULL DEFAULT now(),
    findings            integer NOT NULL DEFAULT 0,
    new_findings        integer NOT NULL DEFAULT 0,
    reopened            integer NOT NULL DEFAULT 0,
    fixed               integer NOT NULL DEFAULT 0,
    by_severity         jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, project_id) REFERENCES appsec_projects (workspace_id, id) ON DELETE CASCADE
);
-- Lists are newest first (keyset on created_at, id).
CREATE INDEX appsec_reports_created ON appsec_reports (workspace_id, created_at DESC, id DESC);

-- A finding is one issue in one project, identified across reports by its fingerprint (a hash
-- of tool, rule or vulnerability id, package or file, and location), so that a later report can
-- say it is still there, gone (fixed) or back (reopened).
CREATE TABLE appsec_findings (
    workspace_id      uuid NOT NULL,
    id                uuid NOT NULL,
    project_id        uuid NOT NULL,
    fingerprint       text NOT NULL,
    tool              text NOT NULL,
    category          text NOT NULL CHECK (category IN ('vulnerability', 'misconfiguration', 'secret', 'code')),
    sub_category      text NOT NULL DEFAULT '',
    rule_id           text NOT NULL DEFAULT '',
    title             text NOT NULL,
    description       text NOT NULL DEFAULT '',
    severity          text NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low', 'info')),
    -- Most severe first: lists and the dashboard order on it.
    severity_rank     smallint GENERATED ALWAYS AS (CASE severity
                          WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2
                          WHEN 'low' THEN 3 ELSE 4 END) STORED,
    package           text NOT NULL DEFAULT '',
    installed_version text NOT NULL DEFAULT '',
    fixed_version     text NOT NULL DEFAULT '',
    location          text NOT NULL DEFAULT '',
    url               text NOT NULL DEFAULT '',
    status            text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'fixed', 'accepted')),
    note              text NOT NULL DEFAULT '',
    status_changed_at timestamptz,
    status_changed_by uuid,
    first_seen        timestamptz NOT NULL,
    last_seen         timestamptz NOT NULL,
    fixed_at          timestamptz,
    report_id         uuid NOT NULL,
    PRIMARY KEY (workspace_id, id),
    UNIQUE (workspace_id, project_id, fingerprint),
    FOREIGN KEY (workspace_id, project_id) REFERENCES appsec_projects (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX appsec_findings_rank ON appsec_findings (workspace_id, severity_rank, id);
CREATE INDEX appsec_findings_open ON appsec_findings (workspace_id, project_id, tool) WHERE status = 'open';

-- The status counts of one project at the end of one UTC day, rewritten by every report and
-- triage of that day. A day without a row carries the previous row forward, so the trend needs
-- no job and survives days without scans.
CREATE TABLE appsec_snapshots (
    workspace_id  uuid NOT NULL,
    project_id    uuid NOT NULL,
    day           date NOT NULL,
    open_critical integer NOT NULL DEFAULT 0,
    open_high     integer NOT NULL DEFAULT 0,
    open_medium   integer NOT NULL DEFAULT 0,
    open_low      integer NOT NULL DEFAULT 0,
    open_info     integer NOT NULL DEFAULT 0,
    fixed         integer NOT NULL DEFAULT 0,
    accepted      integer NOT NULL DEFAULT 0,
    taken_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, project_id, day),
    FOREIGN KEY (workspace_id, project_id) REFERENCES appsec_projects (workspace_id, id) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE appsec_snapshots;
DROP TABLE appsec_findings;
DROP TABLE appsec_reports;
DROP TABLE appsec_projects;
