-- +goose Up
-- Escalation policies (server/domain/alerting/escalation.go): ordered levels of targets with a
-- wait between them, repeated, then reminders until someone acknowledges. An alert policy may
-- route the incidents it matches to one.
CREATE TABLE escalation_policies (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           uuid NOT NULL,
    name         text NOT NULL,
    description  text NOT NULL DEFAULT '',
    repeat       integer NOT NULL DEFAULT 0 CHECK (repeat BETWEEN 0 AND 10),
    reminder_sec integer CHECK (reminder_sec IS NULL OR reminder_sec > 0),
    levels       jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX escalation_policies_list ON escalation_policies (workspace_id, name, id);

ALTER TABLE alert_policies ADD COLUMN escalation_policy_id uuid;
ALTER TABLE alert_policies ADD FOREIGN KEY (workspace_id, escalation_policy_id)
    REFERENCES escalation_policies (workspace_id, id) ON DELETE SET NULL (escalation_policy_id);

-- Every step an escalation fired: the unique key is what makes a step fire once, whatever
-- the retries and restarts. run counts the escalation's starts for the incident (a reopening
-- or an expired acknowledgement starts a new run); step numbers the steps of a run: levels
-- of each pass in order, then reminders.
CREATE TABLE incident_escalations (
    workspace_id uuid NOT NULL,
    incident_id  uuid NOT NULL,
    policy_id    uuid NOT NULL,
    run          integer NOT NULL,
    step         integer NOT NULL,
    pass         integer NOT NULL,
    level        integer NOT NULL,
    reminder     boolean NOT NULL DEFAULT false,
    fired_at     timestamptz NOT NULL DEFAULT now(),
    note         text NOT NULL DEFAULT '',
    PRIMARY KEY (workspace_id, incident_id, policy_id, run, step),
    FOREIGN KEY (workspace_id, incident_id) REFERENCES incidents (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, policy_id) REFERENCES escalation_policies (workspace_id, id) ON DELETE CASCADE
);

-- An acknowledgement may expire (Argus's ACK expiry): then the incident returns to
-- investigating and its escalations start again.
ALTER TABLE incidents ADD COLUMN ack_expires_at timestamptz;

-- SMS and voice calls go through a Twilio-compatible API.
ALTER TABLE notification_deliveries DROP CONSTRAINT notification_deliveries_channel_check;
ALTER TABLE notification_deliveries ADD CONSTRAINT notification_deliveries_channel_check
    CHECK (channel IN ('email', 'webhook', 'slack', 'teams', 'discord', 'telegram', 'pagerduty', 'opsgenie', 'ntfy', 'sms', 'voice'));

-- +goose Down
DELETE FROM notification_deliveries WHERE channel IN ('sms', 'voice');
ALTER TABLE notification_deliveries DROP CONSTRAINT notification_deliveries_channel_check;
ALTER TABLE notification_deliveries ADD CONSTRAINT notification_deliveries_channel_check
    CHECK (channel IN ('email', 'webhook', 'slack', 'teams', 'discord', 'telegram', 'pagerduty', 'opsgenie', 'ntfy'));
ALTER TABLE incidents DROP COLUMN ack_expires_at;
DROP TABLE incident_escalations;
ALTER TABLE alert_policies DROP COLUMN escalation_policy_id;
DROP TABLE escalation_policies;
