-- +goose Up
-- Where and when each check runs, moved out of the wide checks row into a narrow table with one
-- row per (check, location): '' for a check any worker may run, one row per listed location
-- otherwise. Every claim and every digested result writes here, so the row is small (cheap
-- updates, HOT thanks to the fillfactor) and each location keeps its own schedule, lease and
-- failure streak, which N-of-M confirmation reads. checks keeps the check-level aggregate
-- (last_status, last_run_at, fail_streak) that the API and the incident evaluator see.
CREATE TABLE check_schedules (
    workspace_id   uuid NOT NULL,
    check_id       uuid NOT NULL,
    location       text NOT NULL DEFAULT '',
    next_run_at    timestamptz NOT NULL DEFAULT now(),
    lease_until    timestamptz,
    leased_by      uuid,
    lease_run_id   uuid,
    -- A run-now request: the claim that takes the row runs it under this id.
    pending_run_id uuid,
    last_status    smallint,
    last_run_at    timestamptz,
    fail_streak    integer NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, check_id, location),
    FOREIGN KEY (workspace_id, check_id) REFERENCES checks (workspace_id, id) ON DELETE CASCADE
) WITH (fillfactor = 50);
CREATE INDEX check_schedules_due ON check_schedules (next_run_at);

INSERT INTO check_schedules (workspace_id, check_id, location, next_run_at, lease_until, leased_by, lease_run_id,
                             last_status, last_run_at, fail_streak)
SELECT workspace_id, id, '', next_run_at, lease_until, leased_by, lease_run_id, last_status, last_run_at, fail_streak
FROM checks;

-- Run-now requests still queued in River become pending runs (River's tables exist once River
-- has migrated; a fresh installation has none to move).
-- +goose StatementBegin
DO $$
BEGIN
    IF to_regclass('river_job') IS NOT NULL THEN
        UPDATE check_schedules s SET pending_run_id = (j.args ->> 'run_id')::uuid, next_run_at = now()
        FROM river_job j
        WHERE j.kind = 'run_check' AND j.state::text IN ('available', 'scheduled', 'retryable')
          AND s.workspace_id = (j.args ->> 'workspace_id')::uuid AND s.check_id = (j.args ->> 'check_id')::uuid;
        DELETE FROM river_job WHERE kind = 'run_check';
    END IF;
END $$;
-- +goose StatementEnd

ALTER TABLE checks DROP COLUMN next_run_at, DROP COLUMN lease_until, DROP COLUMN leased_by, DROP COLUMN lease_run_id,
    -- Where the check runs ('{}': any worker) and how many of those locations must see a
    -- failure before it counts.
    ADD COLUMN locations text[] NOT NULL DEFAULT '{}',
    ADD COLUMN confirm_locations integer NOT NULL DEFAULT 1 CHECK (confirm_locations >= 1);

-- Where each result was measured from: the location of the worker that ran it.
ALTER TABLE check_results ADD COLUMN location text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE check_results DROP COLUMN location;
ALTER TABLE checks DROP COLUMN locations, DROP COLUMN confirm_locations,
    ADD COLUMN next_run_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN lease_until timestamptz, ADD COLUMN leased_by uuid, ADD COLUMN lease_run_id uuid;
UPDATE checks c SET next_run_at = s.next_run_at
FROM (SELECT workspace_id, check_id, min(next_run_at) AS next_run_at FROM check_schedules GROUP BY 1, 2) s
WHERE s.workspace_id = c.workspace_id AND s.check_id = c.id;
DROP TABLE check_schedules;
