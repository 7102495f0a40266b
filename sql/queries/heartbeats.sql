-- Heartbeat checks: their ping tokens (hashes only) and the times of their last pings.

-- name: SetHeartbeatToken :exec
-- A new check's token, or a rotated one: the old URL stops working at once, and the check
-- waits for pings from now (an earlier ping still counts as its last).
INSERT INTO heartbeats (workspace_id, check_id, token_hash) VALUES (@workspace_id, @check_id, @token_hash)
ON CONFLICT (workspace_id, check_id) DO UPDATE SET token_hash = EXCLUDED.token_hash, since = now();

-- name: FindHeartbeatByToken :one
-- The check a ping URL names, in any workspace; FOR UPDATE orders concurrent pings of one check.
SELECT h.workspace_id, h.check_id, c.host_id, c.config, c.enabled
FROM heartbeats h JOIN checks c ON c.workspace_id = h.workspace_id AND c.id = h.check_id
WHERE h.token_hash = @token_hash
FOR UPDATE OF h;

-- name: RecordHeartbeatPing :exec
-- Records one ping: @kind is 'ok', 'start' or 'fail'.
UPDATE heartbeats SET
    last_ping_at  = CASE WHEN @kind::text = 'ok' THEN @at::timestamptz ELSE last_ping_at END,
    last_start_at = CASE WHEN @kind::text = 'start' THEN @at::timestamptz ELSE last_start_at END,
    last_fail_at  = CASE WHEN @kind::text = 'fail' THEN @at::timestamptz ELSE last_fail_at END
WHERE workspace_id = @workspace_id AND check_id = @check_id;

-- name: GetHeartbeatPings :one
SELECT since, last_ping_at, last_start_at, last_fail_at FROM heartbeats
WHERE workspace_id = @workspace_id AND check_id = @check_id;

-- name: ScheduleHeartbeatJudgement :exec
-- Makes the check's next run happen at its deadline: exactly then when @exact (a success ping
-- moved the deadline), otherwise only if sooner than the run already planned.
UPDATE check_schedules SET next_run_at = CASE WHEN @exact::boolean THEN @deadline::timestamptz
                                              ELSE least(next_run_at, @deadline::timestamptz) END
WHERE workspace_id = @workspace_id AND check_id = @check_id;
