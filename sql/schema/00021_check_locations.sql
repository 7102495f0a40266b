-- +goose Up
-- The latest result says where it was measured from, like the results themselves.
ALTER TABLE check_latest ADD COLUMN location text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE check_latest DROP COLUMN location;
