-- On-call schedules. A workspace has a handful of them, so lists are not paginated (the
-- reference answers a bare array).

-- name: CreateOncallSchedule :one
INSERT INTO oncall_schedules (workspace_id, id, name, description, timezone, rotation_type,
                              rotation_start, handoff_time, rotation_length_hours, members, overrides)
VALUES (@workspace_id, @id, @name, @description, @timezone, @rotation_type,
        @rotation_start, @handoff_time, @rotation_length_hours, @members, @overrides)
RETURNING *;

-- name: GetOncallSchedule :one
SELECT * FROM oncall_schedules WHERE workspace_id = $1 AND id = $2;

-- name: LockOncallSchedule :one
-- The row an update merges its fields into, locked until the update commits.
SELECT * FROM oncall_schedules WHERE workspace_id = $1 AND id = $2 FOR UPDATE;

-- name: ListOncallSchedules :many
SELECT * FROM oncall_schedules WHERE workspace_id = $1 ORDER BY name, id;

-- name: UpdateOncallSchedule :one
-- Writes every setting: the handler has already merged the request into the current row.
UPDATE oncall_schedules SET
    name                  = @name,
    description           = @description,
    timezone              = @timezone,
    rotation_type         = @rotation_type,
    rotation_start        = @rotation_start,
    handoff_time          = @handoff_time,
    rotation_length_hours = @rotation_length_hours,
    members               = @members,
    overrides             = @overrides,
    updated_at            = now()
WHERE workspace_id = @workspace_id AND id = @id
RETURNING *;

-- name: DeleteOncallSchedule :execrows
DELETE FROM oncall_schedules WHERE workspace_id = $1 AND id = $2;
