-- +goose Up
-- On-call schedules. A schedule's members take turns in order from rotation_start; hand-offs
-- happen at handoff_time (HH:MM) in the schedule's IANA time zone for the calendar rotations,
-- every rotation_length_hours for `custom`. Members and overrides are small ordered lists that
-- are always read and written with their schedule, so they live in jsonb rather than in
-- tables of their own.

CREATE TABLE oncall_schedules (
    workspace_id          uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id                    uuid NOT NULL,
    name                  text NOT NULL,
    description           text NOT NULL DEFAULT '',
    timezone              text NOT NULL DEFAULT 'America/Toronto',
    rotation_type         text NOT NULL DEFAULT 'weekly'
                          CHECK (rotation_type IN ('daily', 'weekly', 'biweekly', 'monthly', 'custom')),
    rotation_start        timestamptz NOT NULL,
    handoff_time          text NOT NULL DEFAULT '09:00'
                          CHECK (handoff_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
    -- Only read for `custom`; kept when the type changes so switching back restores it.
    rotation_length_hours integer CHECK (rotation_length_hours BETWEEN 1 AND 8760),
    -- [{"name","email","phone"?}], in turn order.
    members               jsonb NOT NULL DEFAULT '[]',
    -- [{"name","email","phone"?,"start","end"}]: someone covers [start, end).
    overrides             jsonb NOT NULL DEFAULT '[]',
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, id),
    UNIQUE (workspace_id, name),
    CHECK (rotation_type <> 'custom' OR rotation_length_hours IS NOT NULL)
);

-- +goose Down
DROP TABLE oncall_schedules;
