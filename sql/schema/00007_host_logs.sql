-- +goose Up
-- Correlated host logs: syslog entries received by the built-in receiver (server/domain/syslog),
-- stored once per host they were matched to. Partitioned by day like the check results, so
-- that retention drops whole partitions; the same functions create and drop them.

CREATE TABLE host_logs (
    workspace_id uuid NOT NULL,
    host_id      uuid NOT NULL,
    -- The message's own timestamp when it has a plausible one, else the time it was received.
    time         timestamptz NOT NULL,
    received_at  timestamptz NOT NULL,
    source_addr  text NOT NULL,
    hostname     text,
    app_name     text,
    proc_id      text,
    msg_id       text,
    facility     smallint,
    severity     smallint,
    message      text NOT NULL DEFAULT '',
    -- RFC 5424 structured data: {"sd-id": {"param": "value"}}.
    structured   jsonb
) PARTITION BY RANGE (time);
-- No foreign key to hosts (partitioned, high-volume): rows of a deleted host age out with
-- their partitions, and every read goes through the host first.
CREATE INDEX host_logs_host_time ON host_logs (workspace_id, host_id, time DESC);

-- The partition functions of 00002 with host_logs added to their list of parents; the rest of
-- their bodies is unchanged.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION secumon_ensure_partitions(first_day date, last_day date) RETURNS integer
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
        FOREACH parent IN ARRAY ARRAY['check_results', 'snmp_samples', 'host_logs'] LOOP
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
CREATE OR REPLACE FUNCTION secumon_drop_partitions_before(cutoff date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    part record;
    dropped integer := 0;
BEGIN
    FOR part IN
        SELECT c.relname FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        JOIN pg_class p ON p.oid = i.inhparent
        WHERE p.relname IN ('check_results', 'snmp_samples', 'host_logs')
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
-- The bodies of 00002, without host_logs.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION secumon_ensure_partitions(first_day date, last_day date) RETURNS integer
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
CREATE OR REPLACE FUNCTION secumon_drop_partitions_before(cutoff date) RETURNS integer
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

DROP TABLE host_logs;
