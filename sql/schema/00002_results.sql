-- +goose Up
-- The probe runner: leases on checks, check results in daily partitions, the latest result
-- of each check, rollups (1 min, 1 h, 1 d) for long windows, and SNMP samples.

ALTER TABLE checks
    ADD COLUMN lease_until timestamptz,
    ADD COLUMN leased_by   uuid;
-- Every run updates its check twice (claim, then result), so the scheduling columns are left
-- unindexed: the updates stay HOT (no new index entries, no index bloat for the claim to wade
-- through), fillfactor leaves room on each page for them, and vacuum runs often. The claim
-- reads the table sequentially, which stays cheap for tens of thousands of checks.
ALTER TABLE checks SET (fillfactor = 50, autovacuum_vacuum_scale_factor = 0.01,
                        autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0);

-- Raw results. Partitioned by day so that retention drops whole partitions; the partitions
-- are created ahead of time by the runner (see probes/runner/store).
CREATE TABLE check_results (
    workspace_id uuid NOT NULL,
    check_id     uuid NOT NULL,
    host_id      uuid NOT NULL,
    time         timestamptz NOT NULL,
    status       smallint NOT NULL,
    latency_ms   double precision NOT NULL DEFAULT 0,
    output       text NOT NULL DEFAULT '',
    error_msg    text NOT NULL DEFAULT '',
    metrics      jsonb,
    run_id       uuid,
    worker_id    uuid
) PARTITION BY RANGE (time);
CREATE INDEX check_results_check_time ON check_results (workspace_id, check_id, time DESC);

-- The newest result of each check, kept current by the writer so that "latest" never scans.
CREATE TABLE check_latest (
    workspace_id uuid NOT NULL,
    check_id     uuid NOT NULL,
    host_id      uuid NOT NULL,
    time         timestamptz NOT NULL,
    status       smallint NOT NULL,
    latency_ms   double precision NOT NULL,
    output       text NOT NULL,
    error_msg    text NOT NULL,
    metrics      jsonb,
    facts        jsonb,
    run_id       uuid,
    worker_id    uuid,
    PRIMARY KEY (workspace_id, check_id),
    FOREIGN KEY (workspace_id, check_id) REFERENCES checks (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX check_latest_host ON check_latest (workspace_id, host_id);

-- Aggregates per check and bucket; bucket_size is 60 (1 min), 3600 (1 h) or 86400 (1 d) s.
CREATE TABLE check_rollups (
    workspace_id   uuid NOT NULL,
    check_id       uuid NOT NULL,
    bucket_size    integer NOT NULL,
    bucket         timestamptz NOT NULL,
    samples        integer NOT NULL,
    ok             integer NOT NULL,
    warning        integer NOT NULL,
    critical       integer NOT NULL,
    unknown        integer NOT NULL,
    latency_sum    double precision NOT NULL,
    latency_min    double precision NOT NULL,
    latency_max    double precision NOT NULL,
    PRIMARY KEY (workspace_id, check_id, bucket_size, bucket)
);

-- SNMP values (rates for counters), partitioned like the results.
CREATE TABLE snmp_samples (
    workspace_id uuid NOT NULL,
    check_id     uuid NOT NULL,
    time         timestamptz NOT NULL,
    oid          text NOT NULL,
    name         text NOT NULL,
    instance     text NOT NULL DEFAULT '',
    value        double precision NOT NULL
) PARTITION BY RANGE (time);
CREATE INDEX snmp_samples_check_time ON snmp_samples (workspace_id, check_id, time);

-- Daily partitions of check_results and snmp_samples, created ahead of time and dropped for
-- retention as whole tables. Kept in SQL so that the runner calls functions, not DDL strings.
-- +goose StatementBegin
CREATE FUNCTION secumon_ensure_partitions(first_day date, last_day date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    day date := first_day;
    parent text;
    created integer := 0;
BEGIN
    -- Workers starting together would race on CREATE TABLE IF NOT EXISTS (it is not
    -- concurrency-safe); one at a time, held until the caller's transaction ends.
    PERFORM pg_advisory_xact_lock(424242003);
    WHILE day <= last_day LOOP
        FOREACH parent IN ARRAY ARRAY['check_results', 'snmp_samples'] LOOP
            IF to_regclass(format('%s_p%s', parent, to_char(day, 'YYYYMMDD'))) IS NULL THEN
                EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                               format('%s_p%s', parent, to_char(day, 'YYYYMMDD')), parent,
                               day::timestamptz, (day + 1)::timestamptz);
                created := created + 1;
            END IF;
        END LOOP;
        day := day + 1;
    END LOOP;
    RETURN created;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION secumon_drop_partitions_before(cutoff date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    part record;
    dropped integer := 0;
BEGIN
    FOR part IN
        SELECT c.relname FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        JOIN pg_class p ON p.oid = i.inhparent
        WHERE p.relname IN ('check_results', 'snmp_samples')
          AND c.relname ~ '_p[0-9]{8}$'
          AND to_date(right(c.relname, 8), 'YYYYMMDD') < cutoff
    LOOP
        EXECUTE format('DROP TABLE %I', part.relname);
        dropped := dropped + 1;
    END LOOP;
    -- Rollups older than the raw data they summarize go too, except the daily ones, which are
    -- small and keep long-range uptime answerable.
    DELETE FROM check_rollups WHERE bucket_size < 86400 AND bucket < cutoff;
    RETURN dropped;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION secumon_drop_partitions_before(date);
DROP FUNCTION secumon_ensure_partitions(date, date);
DROP TABLE snmp_samples;
DROP TABLE check_rollups;
DROP TABLE check_latest;
DROP TABLE check_results;
ALTER TABLE checks RESET (fillfactor, autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold, autovacuum_vacuum_cost_delay);
ALTER TABLE checks DROP COLUMN leased_by, DROP COLUMN lease_until;
