-- Status pages: CRUD of pages and their components, then the reads behind the public page
-- (server/edge/public), which run once per page every few seconds, not once per request.

-- name: CreateStatusPage :one
INSERT INTO status_pages (workspace_id, id, slug, title, description, is_public, show_history_days)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING *;

-- name: GetStatusPage :one
SELECT * FROM status_pages WHERE workspace_id = $1 AND id = $2;

-- name: LockStatusPage :one
SELECT * FROM status_pages WHERE workspace_id = $1 AND id = $2 FOR UPDATE;

-- name: ListStatusPages :many
-- Keyset-paginated on (slug, id).
SELECT * FROM status_pages
WHERE workspace_id = @workspace_id
  AND (sqlc.narg('after_slug')::text IS NULL OR (slug, id) > (sqlc.narg('after_slug')::text, @after_id::uuid))
ORDER BY slug, id
LIMIT @max_rows;

-- name: CountStatusPages :one
SELECT count(*) FROM status_pages WHERE workspace_id = $1;

-- name: UpdateStatusPage :one
-- Partial update: a NULL argument keeps the column's value.
UPDATE status_pages SET
    slug              = coalesce(sqlc.narg('slug'), slug),
    title             = coalesce(sqlc.narg('title'), title),
    description       = coalesce(sqlc.narg('description'), description),
    is_public         = coalesce(sqlc.narg('is_public'), is_public),
    show_history_days = coalesce(sqlc.narg('show_history_days'), show_history_days),
    updated_at        = now()
WHERE workspace_id = @workspace_id AND id = @id
RETURNING *;

-- name: DeleteStatusPage :execrows
DELETE FROM status_pages WHERE workspace_id = $1 AND id = $2;

-- name: ListStatusPageComponents :many
-- The components of several pages, each page's in display order.
SELECT * FROM status_page_components
WHERE workspace_id = @workspace_id AND page_id = ANY(@page_ids::uuid[])
ORDER BY page_id, sort_order, position;

-- name: DeleteStatusPageComponents :exec
DELETE FROM status_page_components WHERE workspace_id = $1 AND page_id = $2;

-- name: InsertStatusPageComponents :copyfrom
INSERT INTO status_page_components (workspace_id, page_id, id, sort_order, position, name, group_name, host_id, check_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9);

-- name: KnownHostIDs :many
-- Which of ids are hosts of the workspace.
SELECT id FROM hosts WHERE workspace_id = @workspace_id AND id = ANY(@ids::uuid[]);

-- name: KnownCheckIDs :many
-- Which of ids are checks of the workspace.
SELECT id FROM checks WHERE workspace_id = @workspace_id AND id = ANY(@ids::uuid[]);

-- name: PublicStatusPageBySlug :one
-- The public page with this slug, whatever its workspace (public slugs are unique: see the
-- partial index status_pages_public_slug). The anonymous entry point, so no workspace_id.
SELECT * FROM status_pages WHERE slug = $1 AND is_public;

-- name: LockSlug :exec
-- Serialises the transactions that create or change pages with this slug, in every workspace,
-- until the caller's transaction ends: the cross-workspace rule (SlugTakenElsewhere) is then
-- checked and applied atomically.
SELECT pg_advisory_xact_lock(hashtextextended('status_page_slug:' || @slug::text, 0));

-- name: SlugTakenElsewhere :one
-- Whether a page of another workspace keeps a page that wants @slug (public when @is_public)
-- from having it: across workspaces only private pages may share a slug, since /status/{slug}
-- names no workspace and a member reads their private page there.
SELECT EXISTS (
    SELECT 1 FROM status_pages
    WHERE slug = @slug AND workspace_id <> @workspace_id AND (is_public OR @is_public::boolean)
);

-- name: StatusPageBySlug :one
SELECT * FROM status_pages WHERE workspace_id = $1 AND slug = $2;

-- name: StatusPageComponentStates :many
-- Each component with what its state derives from: the worst latest status (@ok, @warning or
-- @critical, the probes package's codes, whose order is their severity; UNKNOWN and never-run
-- left out) of its enabled checks (a host component's checks, or the one check), -1 when none
-- is known, and the host whose maintenance windows apply to it.
SELECT sc.id, sc.name, sc.group_name, sc.sort_order, sc.host_id, sc.check_id,
       coalesce(sc.host_id, c.host_id)::uuid AS target_host_id,
       s.worst_status
FROM status_page_components sc
LEFT JOIN checks c ON c.workspace_id = sc.workspace_id AND c.id = sc.check_id
CROSS JOIN LATERAL (
    SELECT coalesce(max(k.last_status) FILTER (
               WHERE k.enabled
                 AND k.last_status IN (sqlc.arg(ok)::smallint, sqlc.arg(warning)::smallint, sqlc.arg(critical)::smallint)
           ), -1)::smallint AS worst_status
    FROM checks k
    WHERE k.workspace_id = sc.workspace_id
      AND (k.id = sc.check_id OR k.host_id = sc.host_id)
) s
WHERE sc.workspace_id = @workspace_id AND sc.page_id = @page_id
ORDER BY sc.sort_order, sc.position;

-- name: StatusPageDailyUptime :many
-- Per component and UTC day since @since: results that were up (OK or WARNING) and results
-- that tell (all but UNKNOWN), from the daily rollups of the component's checks.
SELECT sc.id AS component_id, r.bucket,
       sum(r.ok + r.warning)::bigint AS up,
       sum(r.samples - r.unknown)::bigint AS known
FROM status_page_components sc
JOIN checks k ON k.workspace_id = sc.workspace_id AND (k.id = sc.check_id OR k.host_id = sc.host_id)
JOIN check_rollups r ON r.workspace_id = k.workspace_id AND r.check_id = k.id
                    AND r.bucket_size = 86400 AND r.bucket >= @since::timestamptz
WHERE sc.workspace_id = @workspace_id AND sc.page_id = @page_id
GROUP BY sc.id, r.bucket
ORDER BY sc.id, r.bucket;

-- name: StatusPageIncidents :many
-- Incidents of the page's checks and host components: the open ones, and those opened since
-- @since (for the feed), newest first. Open ones come before resolved ones, so that the limit
-- never hides an old incident that is still open behind newer resolved ones.
SELECT * FROM incidents
WHERE workspace_id = @workspace_id
  AND (check_id = ANY(@check_ids::uuid[]) OR host_id = ANY(@host_ids::uuid[]))
  AND (status <> 'resolved' OR created_at >= @since::timestamptz)
ORDER BY status = 'resolved', created_at DESC, id DESC
LIMIT @max_rows;

-- name: StatusPageIncidentUpdates :many
-- The latest public timeline entries of each incident: updates an operator marked public,
-- with their note, and status changes (opened, acknowledged, an update that changed the
-- status, resolved, reopened), whose notes are internal and come out empty: the public page
-- says what happened in its own words. Other notes (internal updates, who was notified,
-- SecuMon's own notes quoting probe output) are not public.
SELECT incident_id, time, action, note, status, public FROM (
    SELECT y.*, row_number() OVER (PARTITION BY y.incident_id ORDER BY y.time DESC, y.id DESC) AS n
    FROM (
        SELECT e.incident_id, e.id, e.time, e.action, e.status, e.public,
               (CASE WHEN e.public THEN e.note ELSE '' END)::text AS note,
               e.status IS DISTINCT FROM lag(e.status) OVER (PARTITION BY e.incident_id ORDER BY e.time, e.id) AS status_changed
        FROM incident_events e
        WHERE e.workspace_id = @workspace_id AND e.incident_id = ANY(@incident_ids::uuid[])
    ) y
    WHERE y.public OR y.action IN ('opened', 'acknowledged', 'resolved', 'reopened')
       OR (y.action = 'update' AND y.status_changed)
) x
WHERE x.n <= sqlc.arg(per_incident)::integer
ORDER BY incident_id, time DESC;

-- name: StatusPageMaintenance :many
-- Windows on the page's hosts: scheduled and active ones, and those that ended since @since
-- (for the feed), soonest start first. Scheduled and active ones come first, so that the limit
-- never hides them behind the completed ones of the history window.
SELECT * FROM maintenance_windows
WHERE workspace_id = @workspace_id AND affected_hosts && @host_ids::uuid[]
  AND (status IN ('scheduled', 'active') OR (status = 'completed' AND end_time >= @since::timestamptz))
ORDER BY status = 'completed', start_time, id
LIMIT @max_rows;
