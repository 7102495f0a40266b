-- +goose Up
-- A worker token may be pinned to a location: its workers probe from there only (a private
-- location's key cannot claim, or file results for, the workspace's other locations). NULL
-- is not pinned; '' is not a second spelling of it.
ALTER TABLE worker_tokens ADD COLUMN location text CHECK (location <> '');

-- +goose Down
ALTER TABLE worker_tokens DROP COLUMN location;
