-- +goose Up
-- Microsoft Teams, Discord and Telegram deliveries (server/domain/notify). A Telegram delivery's
-- target is its chat id and its secret the bot token, which, like a webhook's HMAC key, no list
-- query returns.
ALTER TABLE notification_deliveries DROP CONSTRAINT notification_deliveries_channel_check;
ALTER TABLE notification_deliveries ADD CONSTRAINT notification_deliveries_channel_check
    CHECK (channel IN ('email', 'webhook', 'slack', 'teams', 'discord', 'telegram'));

-- +goose Down
DELETE FROM notification_deliveries WHERE channel IN ('teams', 'discord', 'telegram');
ALTER TABLE notification_deliveries DROP CONSTRAINT notification_deliveries_channel_check;
ALTER TABLE notification_deliveries ADD CONSTRAINT notification_deliveries_channel_check
    CHECK (channel IN ('email', 'webhook', 'slack'));
