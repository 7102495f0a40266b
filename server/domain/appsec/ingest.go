package appsec

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/secuaas/secumon/gen/db"
)

// Upload is who posts a report, where, and when.
type Upload struct {
	WorkspaceID uuid.UUID
	Project     string // the project's name
	UploadedBy  string // the token's name
	UserID      uuid.UUID
	Now         time.Time
}

// Store ingests a parsed report into its project with q, which should be bound to one
// transaction: the project's row is locked first, so two reports of one project apply one
// after the other. Known findings take the report's details and reopen when fixed, new ones
// are open, and open findings of the report's tools that it no longer has become fixed. The
// project's snapshot for today is rewritten for the 30-day trend.
func Store(ctx context.Context, q *db.Queries, up Upload, r *Report) (db.AppsecReport, error) {
	now := up.Now.UTC()
	project, err := q.UpsertAppsecProject(ctx, db.UpsertAppsecProjectParams{WorkspaceID: up.WorkspaceID, ID: uuid.New(), Name: up.Project})
	if err != nil {
		return db.AppsecReport{}, err
	}

	n := len(r.Findings)
	reportID := uuid.New()
	fingerprints := make([]string, n)
	bySeverity := map[Severity]int{}
	for i, f := range r.Findings {
		fingerprints[i] = f.Fingerprint
		bySeverity[f.Severity]++
	}
	known, err := q.CountKnownAppsecFindings(ctx, db.CountKnownAppsecFindingsParams{
		WorkspaceID: up.WorkspaceID, ProjectID: project.ID, Fingerprints: fingerprints,
	})
	if err != nil {
		return db.AppsecReport{}, err
	}
	// In batches: one statement for a whole report would encode every text of it at once, a
	// few times over (arrays, then the protocol message).
	for start := 0; start < n; start += upsertBatch {
		batch := r.Findings[start:min(start+upsertBatch, n)]
		if err := q.UpsertAppsecFindings(ctx, upsertParams(up.WorkspaceID, project.ID, reportID, now, batch)); err != nil {
			return db.AppsecReport{}, err
		}
	}
	fixed, err := q.FixMissingAppsecFindings(ctx, db.FixMissingAppsecFindingsParams{
		WorkspaceID: up.WorkspaceID, ProjectID: project.ID, FixedAt: now, Tools: r.Tools, Fingerprints: fingerprints,
	})
	if err != nil {
		return db.AppsecReport{}, err
	}
	counts, err := json.Marshal(bySeverity)
	if err != nil {
		return db.AppsecReport{}, err
	}
	user := up.UserID
	report, err := q.CreateAppsecReport(ctx, db.CreateAppsecReportParams{
		WorkspaceID: up.WorkspaceID, ID: reportID, ProjectID: project.ID, Format: string(r.Format),
		Tool: r.Tool(), ToolVersion: r.ToolVersion, Artifact: r.Artifact, UploadedBy: up.UploadedBy,
		UploadedByUserID: &user, CreatedAt: now, Findings: int32(n), NewFindings: int32(int64(n) - known.Known),
		Reopened: int32(known.Fixed), Fixed: int32(fixed), BySeverity: counts,
	})
	if err != nil {
		return db.AppsecReport{}, err
	}
	if err := q.TouchAppsecProject(ctx, db.TouchAppsecProjectParams{WorkspaceID: up.WorkspaceID, ID: project.ID, At: now}); err != nil {
		return db.AppsecReport{}, err
	}
	return report, Snapshot(ctx, q, up.WorkspaceID, project.ID, now)
}

// upsertBatch is how many findings one UpsertAppsecFindings statement writes.
const upsertBatch = 1000

// upsertParams are the arguments that write fs, one array element per finding.
func upsertParams(workspaceID, projectID, reportID uuid.UUID, seenAt time.Time, fs []Finding) db.UpsertAppsecFindingsParams {
	n := len(fs)
	p := db.UpsertAppsecFindingsParams{
		WorkspaceID: workspaceID, ProjectID: projectID, ReportID: reportID, SeenAt: seenAt,
		Ids: make([]uuid.UUID, n), Fingerprints: make([]string, n), Tools: make([]string, n),
		Categories: make([]string, n), SubCategories: make([]string, n), RuleIds: make([]string, n),
		Titles: make([]string, n), Descriptions: make([]string, n), Severities: make([]string, n),
		Packages: make([]string, n), InstalledVersions: make([]string, n), FixedVersions: make([]string, n),
		Locations: make([]string, n), Urls: make([]string, n),
	}
	for i, f := range fs {
		p.Ids[i], p.Fingerprints[i], p.Tools[i] = uuid.New(), f.Fingerprint, f.Tool
		p.Categories[i], p.SubCategories[i], p.RuleIds[i] = string(f.Category), f.SubCategory, f.RuleID
		p.Titles[i], p.Descriptions[i], p.Severities[i] = f.Title, f.Description, string(f.Severity)
		p.Packages[i], p.InstalledVersions[i], p.FixedVersions[i] = f.Package, f.InstalledVersion, f.FixedVersion
		p.Locations[i], p.Urls[i] = f.Location, f.URL
	}
	return p
}

// Snapshot rewrites the project's status counts for the UTC day of now from its findings;
// every report and triage calls it, so each day's last counts feed the 30-day trend.
func Snapshot(ctx context.Context, q *db.Queries, workspaceID, projectID uuid.UUID, now time.Time) error {
	return q.SnapshotAppsecProject(ctx, db.SnapshotAppsecProjectParams{WorkspaceID: workspaceID, ProjectID: projectID, Day: Day(now)})
}

// Day is the UTC calendar day of t, as a midnight time.
func Day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
