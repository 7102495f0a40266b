-- Notification outbox (server/domain/notify).

-- name: CreateDelivery :exec
INSERT INTO notification_deliveries (workspace_id, id, incident_id, policy_id, channel, target,
                                     secret, subject, body, payload, options, headers)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12);

-- name: GetDelivery :one
SELECT * FROM notification_deliveries WHERE workspace_id = $1 AND id = $2;

-- name: MarkDeliverySent :execrows
-- Only a queued delivery becomes sent: zero rows means another run got there first.
UPDATE notification_deliveries
SET status = 'sent', attempts = @attempt, last_error = NULL, sent_at = now()
WHERE workspace_id = @workspace_id AND id = @id AND status = 'queued';

-- name: MarkDeliveryAttemptFailed :execrows
-- Records a failed attempt on a queued delivery; status stays 'queued' while retries remain
-- and becomes 'failed' after the last one.
UPDATE notification_deliveries
SET status = @status, attempts = @attempt, last_error = @last_error
WHERE workspace_id = @workspace_id AND id = @id AND status = 'queued';

-- name: InsertDeliveryAttempt :exec
INSERT INTO notification_attempts (workspace_id, delivery_id, attempt, ok, status_code, error, duration_ms)
VALUES ($1, $2, $3, $4, $5, $6, $7);

-- name: ListIncidentDeliveries :many
-- An incident's deliveries, oldest first, for its timeline. The webhook secret is left out;
-- show target through notify.MaskTarget (webhook and Slack URLs may hold credentials).
SELECT workspace_id, id, incident_id, policy_id, channel, target, subject, status, attempts,
       last_error, created_at, sent_at
FROM notification_deliveries
WHERE workspace_id = @workspace_id AND incident_id = @incident_id::uuid
ORDER BY created_at, id;

-- name: ListDeliveryAttempts :many
SELECT * FROM notification_attempts
WHERE workspace_id = $1 AND delivery_id = $2
ORDER BY attempt;

-- name: PruneDeliveries :execrows
-- Forgets finished deliveries (and their attempts) created before @before, a batch at a time.
DELETE FROM notification_deliveries
WHERE (workspace_id, id) IN (
    SELECT d.workspace_id, d.id FROM notification_deliveries d
    WHERE d.status <> 'queued' AND d.created_at < @before
    LIMIT 10000
);
