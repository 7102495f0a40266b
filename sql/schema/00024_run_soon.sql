-- +goose Up
-- When a schedule that should run soon falls due: a random point within min(interval, 10 s)
-- from now. A new check's first run, a resumed check's, one whose interval changed and one
-- that fell behind all use it, so that checks created, resumed or delayed together (an
-- import, an automation run, a worker back from an outage) do not fall due in one instant
-- forever. A plain SQL expression, inlined by the planner where it is used.
-- +goose StatementBegin
CREATE FUNCTION secumon_run_soon(interval_sec integer) RETURNS timestamptz
LANGUAGE sql VOLATILE AS $$
    SELECT now() + make_interval(secs => random() * least(interval_sec, 10))
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION secumon_run_soon(integer);
