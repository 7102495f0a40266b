-- +goose Up
-- Results are digested after they are written. The writer only copies raw rows (and one row
-- naming its batch) so that ingest runs close to the speed of a bare COPY; the digester then
-- folds each committed batch into the state that reads and alerting need: the latest result,
-- the rollups, each check's last status and failure streak, its lease, and the workers'
-- counters. A batch row commits atomically with its results, so nothing is digested twice or
-- missed, however writers interleave.
ALTER TABLE check_results
    ADD COLUMN batch_id bigint,
    ADD COLUMN facts    jsonb;
-- Batch ids only grow, so this index is appended to at its right edge and stays cheap.
CREATE INDEX check_results_batch ON check_results (batch_id);

CREATE TABLE result_batches (
    id         bigserial PRIMARY KEY,
    first_time timestamptz NOT NULL, -- the oldest and newest result, to prune partitions
    last_time  timestamptz NOT NULL,
    records    integer NOT NULL,
    written_at timestamptz NOT NULL DEFAULT now()
);

-- A lease names the run it was granted for; the digester releases it when that run's result
-- arrives, with no comparison of clocks between workers and the database.
ALTER TABLE checks
    ADD COLUMN lease_run_id uuid,
    ADD COLUMN fail_streak  integer NOT NULL DEFAULT 0; -- consecutive non-OK results

-- +goose Down
ALTER TABLE checks DROP COLUMN fail_streak, DROP COLUMN lease_run_id;
DROP TABLE result_batches;
DROP INDEX check_results_batch;
ALTER TABLE check_results DROP COLUMN facts, DROP COLUMN batch_id;
