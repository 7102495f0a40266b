-- +goose Up
-- What public status pages may show (server/edge/public): an incident's public title and the
-- timeline updates marked public. Everything else an operator writes stays internal.
ALTER TABLE incidents ADD COLUMN public_title text
    CHECK (public_title IS NULL OR char_length(public_title) BETWEEN 1 AND 200);
ALTER TABLE incident_events ADD COLUMN public boolean NOT NULL DEFAULT false;

-- Slugs across workspaces (see the handlers' claimSlug): the check "does a page of another
-- workspace hold this slug" looks pages up by slug alone.
CREATE INDEX status_pages_slug ON status_pages (slug);

-- +goose Down
DROP INDEX status_pages_slug;
ALTER TABLE incident_events DROP COLUMN public;
ALTER TABLE incidents DROP COLUMN public_title;
