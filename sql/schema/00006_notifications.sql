-- +goose Up
-- Notification outbox. A delivery row is written in the same transaction as the incident
-- change that caused it, together with its River job (server/domain/notify), so a notification
-- exists exactly when that change committed. The job sends it and records every attempt here;
-- the row's status is the truth a re-run job checks first, so a job run again after a crash
-- does not send a delivery that is already marked sent.
-- incident_id and policy_id have no foreign keys: deliveries outlive the incidents and
-- policies they came from, as the record of who was told what.
CREATE TABLE notification_deliveries (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           uuid NOT NULL,
    incident_id  uuid,
    policy_id    uuid,
    channel      text NOT NULL CHECK (channel IN ('email', 'webhook', 'slack')),
    target       text NOT NULL,          -- email address or webhook URL
    secret       text,                   -- webhook HMAC key; never returned by list queries
    subject      text NOT NULL,
    body         text NOT NULL,          -- plain text (email body, Slack text)
    payload      jsonb NOT NULL,         -- the JSON event a webhook receives
    status       text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz,
    PRIMARY KEY (workspace_id, id)
);
-- An incident's timeline lists its deliveries.
CREATE INDEX notification_deliveries_incident
    ON notification_deliveries (workspace_id, incident_id, created_at) WHERE incident_id IS NOT NULL;

-- One row per attempt to send a delivery, successful or not.
CREATE TABLE notification_attempts (
    workspace_id uuid NOT NULL,
    delivery_id  uuid NOT NULL,
    attempt      integer NOT NULL,       -- 1, 2, …
    at           timestamptz NOT NULL DEFAULT now(),
    ok           boolean NOT NULL,
    status_code  integer,                -- HTTP status, or the SMTP reply code of a refusal
    error        text,
    duration_ms  integer NOT NULL,
    PRIMARY KEY (workspace_id, delivery_id, attempt),
    FOREIGN KEY (workspace_id, delivery_id)
        REFERENCES notification_deliveries (workspace_id, id) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE notification_attempts;
DROP TABLE notification_deliveries;
