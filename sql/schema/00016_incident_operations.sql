-- +goose Up
-- Incident operations (issue 15): an assignee (a member of the workspace), a snooze that
-- silences notifications until a time (server/domain/incidents.Snoozed), and merging
-- duplicates into one incident (the duplicate is resolved and points at the survivor).
ALTER TABLE incidents
    ADD COLUMN assignee_id   uuid,
    ADD COLUMN snoozed_until timestamptz,
    ADD COLUMN merged_into   uuid,
    -- Leaving the workspace unassigns a person's incidents.
    ADD CONSTRAINT incidents_assignee_member FOREIGN KEY (workspace_id, assignee_id)
        REFERENCES memberships (workspace_id, user_id) ON DELETE SET NULL (assignee_id),
    ADD CONSTRAINT incidents_merged_into FOREIGN KEY (workspace_id, merged_into)
        REFERENCES incidents (workspace_id, id) ON DELETE SET NULL (merged_into),
    ADD CONSTRAINT incidents_not_merged_into_itself CHECK (merged_into IS NULL OR merged_into <> id),
    ADD CONSTRAINT incidents_merged_are_resolved CHECK (merged_into IS NULL OR status = 'resolved');
CREATE INDEX incidents_assignee ON incidents (workspace_id, assignee_id, created_at DESC)
    WHERE assignee_id IS NOT NULL;

-- +goose Down
DROP INDEX incidents_assignee;
ALTER TABLE incidents
    DROP CONSTRAINT incidents_merged_are_resolved,
    DROP CONSTRAINT incidents_not_merged_into_itself,
    DROP CONSTRAINT incidents_merged_into,
    DROP CONSTRAINT incidents_assignee_member,
    DROP COLUMN merged_into,
    DROP COLUMN snoozed_until,
    DROP COLUMN assignee_id;
