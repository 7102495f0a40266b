-- App security: projects, ingested scanner reports, findings and their daily snapshots.

-- name: UpsertAppsecProject :one
-- The no-op update makes RETURNING give the existing row, and locks it: two reports for one
-- project are ingested one after the other.
INSERT INTO appsec_projects (workspace_id, id, name) VALUES (@workspace_id, @id, @name)
ON CONFLICT (workspace_id, name) DO UPDATE SET name = EXCLUDED.name
RETURNING *;

-- name: TouchAppsecProject :exec
UPDATE appsec_projects SET last_report_at = @at::timestamptz WHERE workspace_id = @workspace_id AND id = @id;

-- name: CountKnownAppsecFindings :one
-- Of the fingerprints a report has, how many the project already has, and how many of those are
-- fixed (they reopen).
SELECT count(*) AS known, count(*) FILTER (WHERE status = 'fixed') AS fixed
FROM appsec_findings
WHERE workspace_id = @workspace_id AND project_id = @project_id AND fingerprint = ANY(@fingerprints::text[]);

-- name: UpsertAppsecFindings :exec
-- A report's findings, one array element each. A known finding takes the report's details and
-- last_seen; a fixed one reopens; open and accepted ones keep their status.
INSERT INTO appsec_findings (
    workspace_id, project_id, report_id, first_seen, last_seen, status,
    id, fingerprint, tool, category, sub_category, rule_id, title, description, severity,
    package, installed_version, fixed_version, location, url)
SELECT @workspace_id::uuid, @project_id::uuid, @report_id::uuid, @seen_at::timestamptz, @seen_at::timestamptz, 'open',
    unnest(@ids::uuid[]), unnest(@fingerprints::text[]), unnest(@tools::text[]), unnest(@categories::text[]),
    unnest(@sub_categories::text[]), unnest(@rule_ids::text[]), unnest(@titles::text[]), unnest(@descriptions::text[]),
    unnest(@severities::text[]), unnest(@packages::text[]), unnest(@installed_versions::text[]),
    unnest(@fixed_versions::text[]), unnest(@locations::text[]), unnest(@urls::text[])
ON CONFLICT (workspace_id, project_id, fingerprint) DO UPDATE SET
    tool              = EXCLUDED.tool,
    category          = EXCLUDED.category,
    sub_category      = EXCLUDED.sub_category,
    rule_id           = EXCLUDED.rule_id,
    title             = EXCLUDED.title,
    description       = EXCLUDED.description,
    severity          = EXCLUDED.severity,
    package           = EXCLUDED.package,
    installed_version = EXCLUDED.installed_version,
    fixed_version     = EXCLUDED.fixed_version,
    location          = EXCLUDED.location,
    url               = EXCLUDED.url,
    last_seen         = EXCLUDED.last_seen,
    report_id         = EXCLUDED.report_id,
    status            = CASE WHEN appsec_findings.status = 'fixed' THEN 'open' ELSE appsec_findings.status END,
    fixed_at          = CASE WHEN appsec_findings.status = 'fixed' THEN NULL ELSE appsec_findings.fixed_at END;

-- name: FixMissingAppsecFindings :execrows
-- Open findings of the report's tools that the report no longer has are fixed.
UPDATE appsec_findings SET status = 'fixed', fixed_at = @fixed_at::timestamptz
WHERE workspace_id = @workspace_id AND project_id = @project_id AND status = 'open'
  AND tool = ANY(@tools::text[]) AND NOT (fingerprint = ANY(@fingerprints::text[]));

-- name: CreateAppsecReport :one
INSERT INTO appsec_reports (
    workspace_id, id, project_id, format, tool, tool_version, artifact, uploaded_by, uploaded_by_user_id,
    created_at, findings, new_findings, reopened, fixed, by_severity)
VALUES (
    @workspace_id, @id, @project_id, @format, @tool, @tool_version, @artifact, @uploaded_by, @uploaded_by_user_id,
    @created_at, @findings, @new_findings, @reopened, @fixed, @by_severity)
RETURNING *;

-- name: SnapshotAppsecProject :exec
-- Rewrites the project's counts for day from its findings as they are now.
INSERT INTO appsec_snapshots (
    workspace_id, project_id, day, open_critical, open_high, open_medium, open_low, open_info, fixed, accepted, taken_at)
SELECT @workspace_id::uuid, @project_id::uuid, @day::date,
    count(*) FILTER (WHERE status = 'open' AND severity = 'critical'),
    count(*) FILTER (WHERE status = 'open' AND severity = 'high'),
    count(*) FILTER (WHERE status = 'open' AND severity = 'medium'),
    count(*) FILTER (WHERE status = 'open' AND severity = 'low'),
    count(*) FILTER (WHERE status = 'open' AND severity = 'info'),
    count(*) FILTER (WHERE status = 'fixed'),
    count(*) FILTER (WHERE status = 'accepted'),
    now()
FROM appsec_findings
WHERE workspace_id = @workspace_id::uuid AND project_id = @project_id::uuid
ON CONFLICT (workspace_id, project_id, day) DO UPDATE SET
    open_critical = EXCLUDED.open_critical,
    open_high     = EXCLUDED.open_high,
    open_medium   = EXCLUDED.open_medium,
    open_low      = EXCLUDED.open_low,
    open_info     = EXCLUDED.open_info,
    fixed         = EXCLUDED.fixed,
    accepted      = EXCLUDED.accepted,
    taken_at      = EXCLUDED.taken_at;

-- name: GetAppsecReport :one
SELECT sqlc.embed(r), p.name AS project_name
FROM appsec_reports r JOIN appsec_projects p ON p.workspace_id = r.workspace_id AND p.id = r.project_id
WHERE r.workspace_id = @workspace_id AND r.id = @id;

-- name: ListAppsecReports :many
-- Newest first; keyset on (created_at, id) descending.
SELECT sqlc.embed(r), p.name AS project_name
FROM appsec_reports r JOIN appsec_projects p ON p.workspace_id = r.workspace_id AND p.id = r.project_id
WHERE r.workspace_id = @workspace_id
  AND (sqlc.narg('project')::text IS NULL OR p.name = sqlc.narg('project'))
  AND (sqlc.narg('after_created')::timestamptz IS NULL
       OR (r.created_at, r.id) < (sqlc.narg('after_created')::timestamptz, @after_id::uuid))
ORDER BY r.created_at DESC, r.id DESC
LIMIT @max_rows;

-- name: CountAppsecReports :one
SELECT count(*)
FROM appsec_reports r JOIN appsec_projects p ON p.workspace_id = r.workspace_id AND p.id = r.project_id
WHERE r.workspace_id = @workspace_id
  AND (sqlc.narg('project')::text IS NULL OR p.name = sqlc.narg('project'));

-- name: GetAppsecFinding :one
SELECT sqlc.embed(f), p.name AS project_name
FROM appsec_findings f JOIN appsec_projects p ON p.workspace_id = f.workspace_id AND p.id = f.project_id
WHERE f.workspace_id = @workspace_id AND f.id = @id;

-- name: ListAppsecFindings :many
-- Most severe first; keyset on (severity_rank, id).
SELECT sqlc.embed(f), p.name AS project_name
FROM appsec_findings f JOIN appsec_projects p ON p.workspace_id = f.workspace_id AND p.id = f.project_id
WHERE f.workspace_id = @workspace_id
  AND (sqlc.narg('project')::text IS NULL OR p.name = sqlc.narg('project'))
  AND (sqlc.narg('severity')::text IS NULL OR f.severity = sqlc.narg('severity'))
  AND (sqlc.narg('status')::text IS NULL OR f.status = sqlc.narg('status'))
  AND (sqlc.narg('category')::text IS NULL OR f.category = sqlc.narg('category'))
  AND (sqlc.narg('after_rank')::smallint IS NULL
       OR (f.severity_rank, f.id) > (sqlc.narg('after_rank')::smallint, @after_id::uuid))
ORDER BY f.severity_rank, f.id
LIMIT @max_rows;

-- name: CountAppsecFindings :one
SELECT count(*)
FROM appsec_findings f JOIN appsec_projects p ON p.workspace_id = f.workspace_id AND p.id = f.project_id
WHERE f.workspace_id = @workspace_id
  AND (sqlc.narg('project')::text IS NULL OR p.name = sqlc.narg('project'))
  AND (sqlc.narg('severity')::text IS NULL OR f.severity = sqlc.narg('severity'))
  AND (sqlc.narg('status')::text IS NULL OR f.status = sqlc.narg('status'))
  AND (sqlc.narg('category')::text IS NULL OR f.category = sqlc.narg('category'));

-- name: SetAppsecFindingStatus :one
-- Triage: a note left out (NULL) keeps the current one. fixed_at is set when the finding
-- becomes fixed and cleared when it leaves that status.
UPDATE appsec_findings SET
    status            = @status::text,
    note              = coalesce(sqlc.narg('note'), note),
    status_changed_at = @changed_at::timestamptz,
    status_changed_by = @changed_by::uuid,
    fixed_at          = CASE WHEN @status::text <> 'fixed' THEN NULL
                             WHEN status = 'fixed' THEN fixed_at
                             ELSE @changed_at::timestamptz END
WHERE workspace_id = @workspace_id AND id = @id
RETURNING project_id;

-- name: AppsecProjectSummaries :many
-- Every project with its open findings per severity, the most exposed first.
SELECT p.id, p.name, p.last_report_at,
    count(f.id) FILTER (WHERE f.status = 'open' AND f.severity = 'critical') AS open_critical,
    count(f.id) FILTER (WHERE f.status = 'open' AND f.severity = 'high') AS open_high,
    count(f.id) FILTER (WHERE f.status = 'open' AND f.severity = 'medium') AS open_medium,
    count(f.id) FILTER (WHERE f.status = 'open' AND f.severity = 'low') AS open_low,
    count(f.id) FILTER (WHERE f.status = 'open' AND f.severity = 'info') AS open_info
FROM appsec_projects p
LEFT JOIN appsec_findings f ON f.workspace_id = p.workspace_id AND f.project_id = p.id
WHERE p.workspace_id = @workspace_id
GROUP BY p.id, p.name, p.last_report_at
ORDER BY open_critical DESC, open_high DESC, open_medium DESC, open_low DESC, open_info DESC, p.name
LIMIT @max_rows;

-- name: AppsecTopFindings :many
SELECT sqlc.embed(f), p.name AS project_name
FROM appsec_findings f JOIN appsec_projects p ON p.workspace_id = f.workspace_id AND p.id = f.project_id
WHERE f.workspace_id = @workspace_id AND f.status = 'open'
ORDER BY f.severity_rank, f.last_seen DESC, f.id
LIMIT @max_rows;

-- name: AppsecFindingTotals :many
SELECT status, severity, count(*) AS findings
FROM appsec_findings
WHERE workspace_id = @workspace_id
GROUP BY status, severity;

-- name: AppsecSubCategories :many
SELECT DISTINCT sub_category FROM appsec_findings
WHERE workspace_id = @workspace_id AND sub_category <> ''
ORDER BY sub_category;

-- name: AppsecTrend :many
-- One row per day from first_day to last_day: the sum over projects of each project's latest
-- snapshot on or before that day (zero before a project's first report).
SELECT d.day::date AS day,
    coalesce(sum(s.open_critical), 0)::integer AS open_critical,
    coalesce(sum(s.open_high), 0)::integer AS open_high,
    coalesce(sum(s.open_medium), 0)::integer AS open_medium,
    coalesce(sum(s.open_low), 0)::integer AS open_low,
    coalesce(sum(s.open_info), 0)::integer AS open_info,
    coalesce(sum(s.fixed), 0)::integer AS fixed,
    coalesce(sum(s.accepted), 0)::integer AS accepted
FROM generate_series(sqlc.arg(first_day)::date, sqlc.arg(last_day)::date, interval '1 day') AS d (day)
LEFT JOIN appsec_projects p ON p.workspace_id = @workspace_id
LEFT JOIN LATERAL (
    SELECT * FROM appsec_snapshots sn
    WHERE sn.workspace_id = p.workspace_id AND sn.project_id = p.id AND sn.day <= d.day::date
    ORDER BY sn.day DESC
    LIMIT 1
) s ON true
GROUP BY d.day
ORDER BY d.day;
