-- +goose Up
-- Status pages and their components, and the notifications the live event stream needs for
-- changes that do not go through the incident code (hosts and checks added or removed).

CREATE TABLE status_pages (
    workspace_id      uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id                uuid NOT NULL,
    slug              text NOT NULL CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$'),
    title             text NOT NULL,
    description       text NOT NULL DEFAULT '',
    is_public         boolean NOT NULL DEFAULT true,
    show_history_days integer NOT NULL DEFAULT 90 CHECK (show_history_days BETWEEN 1 AND 365),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, id),
    UNIQUE (workspace_id, slug)
);
-- The public URL /status/{slug} names no workspace, so a public page's slug is unique among
-- all public pages. This is the schema's one key without workspace_id: public pages are one
-- namespace by nature. (On a sharded PostgreSQL it would become a small reference table.)
CREATE UNIQUE INDEX status_pages_public_slug ON status_pages (slug) WHERE is_public;

-- A component shows one host or one check. It goes with its host or check: a deleted host
-- cannot leave a component pointing at nothing.
CREATE TABLE status_page_components (
    workspace_id uuid NOT NULL,
    page_id      uuid NOT NULL,
    id           uuid NOT NULL,
    sort_order   integer NOT NULL,
    position     integer NOT NULL, -- place in the list the API received: ties of sort_order
    name         text NOT NULL,
    group_name   text NOT NULL DEFAULT '',
    host_id      uuid,
    check_id     uuid,
    PRIMARY KEY (workspace_id, page_id, id),
    CHECK ((host_id IS NULL) <> (check_id IS NULL)),
    FOREIGN KEY (workspace_id, page_id) REFERENCES status_pages (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, host_id) REFERENCES hosts (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, check_id) REFERENCES checks (workspace_id, id) ON DELETE CASCADE
);
-- For the cascades when a host or check is deleted.
CREATE INDEX status_page_components_host ON status_page_components (workspace_id, host_id) WHERE host_id IS NOT NULL;
CREATE INDEX status_page_components_check ON status_page_components (workspace_id, check_id) WHERE check_id IS NOT NULL;

-- The dashboard summary counts hosts and enabled checks. Whatever adds or removes them (the
-- API, the CLI, a cascade) tells the live event stream on the channel the incident code uses
-- (server/domain/incidents.EventsChannel), with the workspace id as payload. PostgreSQL delivers one
-- notification per transaction for identical payloads, so bulk changes cost one event.
-- +goose StatementBegin
CREATE FUNCTION notify_secumon_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('secumon_events', OLD.workspace_id::text);
    ELSE
        PERFORM pg_notify('secumon_events', NEW.workspace_id::text);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER hosts_notify_events AFTER INSERT OR DELETE ON hosts
    FOR EACH ROW EXECUTE FUNCTION notify_secumon_events();
CREATE TRIGGER checks_notify_events AFTER INSERT OR DELETE ON checks
    FOR EACH ROW EXECUTE FUNCTION notify_secumon_events();
CREATE TRIGGER checks_notify_enabled AFTER UPDATE OF enabled ON checks
    FOR EACH ROW WHEN (OLD.enabled IS DISTINCT FROM NEW.enabled) EXECUTE FUNCTION notify_secumon_events();

-- +goose Down
DROP TRIGGER checks_notify_enabled ON checks;
DROP TRIGGER checks_notify_events ON checks;
DROP TRIGGER hosts_notify_events ON hosts;
DROP FUNCTION notify_secumon_events();
DROP TABLE status_page_components;
DROP TABLE status_pages;
