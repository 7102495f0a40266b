-- +goose Up
-- A check's last run is read from its schedules (the latest of their last runs), which the
-- digest writes anyway: the digest no longer rewrites the checks row after every run, only
-- when its status or streak changes.
ALTER TABLE checks DROP COLUMN last_run_at;

-- +goose Down
ALTER TABLE checks ADD COLUMN last_run_at timestamptz;
UPDATE checks c SET last_run_at = s.last_run_at
FROM (SELECT workspace_id, check_id, max(last_run_at) AS last_run_at FROM check_schedules GROUP BY 1, 2) s
WHERE c.workspace_id = s.workspace_id AND c.id = s.check_id;
