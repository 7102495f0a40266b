-- +goose Up
-- PagerDuty, Opsgenie and ntfy deliveries, and the settings that shape a channel's request.
ALTER TABLE notification_deliveries DROP CONSTRAINT notification_deliveries_channel_check;
ALTER TABLE notification_deliveries ADD CONSTRAINT notification_deliveries_channel_check
    CHECK (channel IN ('email', 'webhook', 'slack', 'teams', 'discord', 'telegram', 'pagerduty', 'opsgenie', 'ntfy'));
-- options: the channel's non-secret settings (notify.Options: severity, priority, tags, the
-- rendered body and content type of a templated webhook). headers: extra request headers of a
-- webhook, secrets like the secret column, so never returned by list queries.
ALTER TABLE notification_deliveries
    ADD COLUMN options jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN headers jsonb;

-- +goose Down
ALTER TABLE notification_deliveries DROP COLUMN options, DROP COLUMN headers;
DELETE FROM notification_deliveries WHERE channel IN ('pagerduty', 'opsgenie', 'ntfy');
ALTER TABLE notification_deliveries DROP CONSTRAINT notification_deliveries_channel_check;
ALTER TABLE notification_deliveries ADD CONSTRAINT notification_deliveries_channel_check
    CHECK (channel IN ('email', 'webhook', 'slack', 'teams', 'discord', 'telegram'));
