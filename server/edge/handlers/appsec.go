package handlers

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/secuaas/secumon/gen/api"
	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/domain/appsec"
	"github.com/secuaas/secumon/server/edge/problem"
)

// Sizes of the app-security dashboard's lists.
const (
	dashboardProjects    = 100
	dashboardTopFindings = 10
	trendDays            = 30
)

// UploadAppSecurityReport is the strict handler's entry; the server routes the operation to
// ReportUploads instead (the report is read as a stream there), so this serves only callers
// of the strict interface that already hold the report.
func (a *API) UploadAppSecurityReport(ctx context.Context, req api.UploadAppSecurityReportRequestObject) (api.UploadAppSecurityReportResponseObject, error) {
	var body []byte
	if req.Body != nil {
		body = *req.Body
	}
	// The gate validated the whole body against the contract on this path.
	out, err := a.uploadReport(ctx, bytes.NewReader(body), req.Params, nil)
	if err != nil {
		return nil, err
	}
	return api.UploadAppSecurityReport201JSONResponse(out), nil
}

// uploadReport parses a report from body as a stream (check sees its top-level members) and
// stores its findings.
func (a *API) uploadReport(ctx context.Context, body io.Reader, params api.UploadAppSecurityReportParams, check appsec.MemberCheck) (api.AppSecReport, error) {
	peek := bufio.NewReader(body)
	if _, err := peek.Peek(1); errors.Is(err, io.EOF) {
		return api.AppSecReport{}, problem.Invalid(problem.FieldError{Field: "body", Message: "a scanner report is required"})
	}
	var format appsec.Format
	if params.Format != nil {
		format = appsec.Format(*params.Format)
	}
	report, err := appsec.ParseReader(peek, format, check)
	if invalid := (*appsec.InvalidError)(nil); errors.As(err, &invalid) {
		return api.AppSecReport{}, problem.Invalid(problem.FieldError{Field: invalid.Field, Message: invalid.Message})
	} else if err != nil {
		return api.AppSecReport{}, err
	}
	name := report.Project
	if params.Project != nil {
		if err := projectFilter(params.Project); err != nil {
			return api.AppSecReport{}, err
		}
		name = strings.TrimSpace(*params.Project)
	}
	if name == "" {
		return api.AppSecReport{}, problem.Invalid(problem.FieldError{Field: "project",
			Message: "the report names no project (no ArtifactName, repository URI or tool name); give one with the project query parameter"})
	}

	p := caller(ctx)
	up := appsec.Upload{WorkspaceID: p.WorkspaceID, Project: name, UploadedBy: p.TokenName, UserID: p.UserID, Now: time.Now()}
	var stored db.AppsecReport
	err = a.inTx(ctx, func(q *db.Queries) error {
		stored, err = appsec.Store(ctx, q, up, report)
		return err
	})
	if err != nil {
		return api.AppSecReport{}, err
	}
	return reportOut(stored, name), nil
}

func (a *API) ListAppSecurityReports(ctx context.Context, req api.ListAppSecurityReportsRequestObject) (api.ListAppSecurityReportsResponseObject, error) {
	ws, p := caller(ctx).WorkspaceID, req.Params
	if err := projectFilter(p.Project); err != nil {
		return nil, err
	}
	l, err := listPage(ctx, p.Cursor, p.Limit,
		func(ctx context.Context, afterName *string, afterID uuid.UUID, maxRows int32) ([]db.ListAppsecReportsRow, error) {
			before, beforeID, err := beforeArgs(afterName, afterID)
			if err != nil {
				return nil, err
			}
			return a.q.ListAppsecReports(ctx, db.ListAppsecReportsParams{
				WorkspaceID: ws, Project: p.Project, AfterCreated: before, AfterID: beforeID, MaxRows: maxRows,
			})
		},
		func(ctx context.Context) (int64, error) {
			return a.q.CountAppsecReports(ctx, db.CountAppsecReportsParams{WorkspaceID: ws, Project: p.Project})
		},
		func(r db.ListAppsecReportsRow) keyset { return timeKey(r.AppsecReport.CreatedAt, r.AppsecReport.ID) })
	if err != nil {
		return nil, err
	}
	out := api.AppSecReportList{Count: l.total, Reports: make([]api.AppSecReport, len(l.rows)), NextCursor: l.next}
	for i, r := range l.rows {
		out.Reports[i] = reportOut(r.AppsecReport, r.ProjectName)
	}
	return api.ListAppSecurityReports200JSONResponse{Body: out}, nil
}

func (a *API) GetAppSecurityReport(ctx context.Context, req api.GetAppSecurityReportRequestObject) (api.GetAppSecurityReportResponseObject, error) {
	r, err := a.q.GetAppsecReport(ctx, db.GetAppsecReportParams{WorkspaceID: caller(ctx).WorkspaceID, ID: req.Id})
	if err != nil {
		return nil, notFoundAs(err, "report")
	}
	return api.GetAppSecurityReport200JSONResponse{Body: reportOut(r.AppsecReport, r.ProjectName)}, nil
}

func (a *API) ListAppSecurityFindings(ctx context.Context, req api.ListAppSecurityFindingsRequestObject) (api.ListAppSecurityFindingsResponseObject, error) {
	ws, p := caller(ctx).WorkspaceID, req.Params
	if err := projectFilter(p.Project); err != nil {
		return nil, err
	}
	severity, status, category := enumArg(p.Severity), enumArg(p.Status), enumArg(p.Category)
	l, err := listPage(ctx, p.Cursor, p.Limit,
		func(ctx context.Context, afterName *string, afterID uuid.UUID, maxRows int32) ([]db.ListAppsecFindingsRow, error) {
			afterRank, err := rankArg(afterName)
			if err != nil {
				return nil, err
			}
			return a.q.ListAppsecFindings(ctx, db.ListAppsecFindingsParams{
				WorkspaceID: ws, Project: p.Project, Severity: severity, Status: status, Category: category,
				AfterRank: afterRank, AfterID: afterID, MaxRows: maxRows,
			})
		},
		func(ctx context.Context) (int64, error) {
			return a.q.CountAppsecFindings(ctx, db.CountAppsecFindingsParams{
				WorkspaceID: ws, Project: p.Project, Severity: severity, Status: status, Category: category,
			})
		},
		func(r db.ListAppsecFindingsRow) keyset {
			return keyset{Name: strconv.Itoa(appsec.Severity(r.AppsecFinding.Severity).Rank()), ID: r.AppsecFinding.ID}
		})
	if err != nil {
		return nil, err
	}
	out := api.AppSecFindingList{Count: l.total, Findings: make([]api.AppSecFinding, len(l.rows)), NextCursor: l.next}
	for i, r := range l.rows {
		out.Findings[i] = findingOut(r.AppsecFinding, r.ProjectName)
	}
	return api.ListAppSecurityFindings200JSONResponse{Body: out}, nil
}

func (a *API) GetAppSecurityFinding(ctx context.Context, req api.GetAppSecurityFindingRequestObject) (api.GetAppSecurityFindingResponseObject, error) {
	r, err := a.q.GetAppsecFinding(ctx, db.GetAppsecFindingParams{WorkspaceID: caller(ctx).WorkspaceID, ID: req.Id})
	if err != nil {
		return nil, notFoundAs(err, "finding")
	}
	return api.GetAppSecurityFinding200JSONResponse{Body: findingOut(r.AppsecFinding, r.ProjectName)}, nil
}

// UpdateAppSecurityFinding triages a finding and rewrites its project's snapshot of the day,
// so the trend shows the change without waiting for the next report.
func (a *API) UpdateAppSecurityFinding(ctx context.Context, req api.UpdateAppSecurityFindingRequestObject) (api.UpdateAppSecurityFindingResponseObject, error) {
	p, now := caller(ctx), time.Now().UTC()
	var out db.GetAppsecFindingRow
	err := a.inTx(ctx, func(q *db.Queries) error {
		projectID, err := q.SetAppsecFindingStatus(ctx, db.SetAppsecFindingStatusParams{
			WorkspaceID: p.WorkspaceID, ID: req.Id, Status: string(req.Body.Status), Note: req.Body.Note,
			ChangedAt: now, ChangedBy: p.UserID,
		})
		if err != nil {
			return notFoundAs(err, "finding")
		}
		if err := appsec.Snapshot(ctx, q, p.WorkspaceID, projectID, now); err != nil {
			return err
		}
		out, err = q.GetAppsecFinding(ctx, db.GetAppsecFindingParams{WorkspaceID: p.WorkspaceID, ID: req.Id})
		return err
	})
	if err != nil {
		return nil, err
	}
	return api.UpdateAppSecurityFinding200JSONResponse{Body: findingOut(out.AppsecFinding, out.ProjectName)}, nil
}

// GetAppSecurityDashboard assembles the posture: projects by exposure, the worst open
// findings, totals, the sub-categories and the 30-day trend from the daily snapshots.
func (a *API) GetAppSecurityDashboard(ctx context.Context, _ api.GetAppSecurityDashboardRequestObject) (api.GetAppSecurityDashboardResponseObject, error) {
	ws, now := caller(ctx).WorkspaceID, time.Now().UTC()
	out := api.AppSecurityDashboard{
		GeneratedAt: now, Projects: []api.AppSecProject{}, TopFindings: []api.AppSecFinding{},
		TotalsBySeverity: map[string]int{}, TotalsByStatus: map[string]int{},
	}

	projects, err := a.q.AppsecProjectSummaries(ctx, db.AppsecProjectSummariesParams{WorkspaceID: ws, MaxRows: dashboardProjects})
	if err != nil {
		return nil, err
	}
	for _, p := range projects {
		bySeverity := severityCounts(p.OpenCritical, p.OpenHigh, p.OpenMedium, p.OpenLow, p.OpenInfo)
		open := 0
		for _, n := range bySeverity {
			open += n
		}
		out.Projects = append(out.Projects, api.AppSecProject{
			Id: p.ID, Name: p.Name, OpenFindings: open, BySeverity: &bySeverity, LastReportAt: utc(p.LastReportAt),
		})
	}

	top, err := a.q.AppsecTopFindings(ctx, db.AppsecTopFindingsParams{WorkspaceID: ws, MaxRows: dashboardTopFindings})
	if err != nil {
		return nil, err
	}
	for _, f := range top {
		out.TopFindings = append(out.TopFindings, findingOut(f.AppsecFinding, f.ProjectName))
	}

	totals, err := a.q.AppsecFindingTotals(ctx, ws)
	if err != nil {
		return nil, err
	}
	for _, t := range totals {
		out.TotalsByStatus[t.Status] += int(t.Findings)
		if t.Status == string(api.AppSecStatusOpen) {
			out.TotalsBySeverity[t.Severity] += int(t.Findings)
		}
	}

	seen, err := a.q.AppsecSubCategories(ctx, ws)
	if err != nil {
		return nil, err
	}
	out.SubCategories = append([]string{}, appsec.PostureAreas...)
	for _, s := range seen {
		if !slices.Contains(appsec.PostureAreas, s) {
			out.SubCategories = append(out.SubCategories, s)
		}
	}

	today := appsec.Day(now)
	trend, err := a.q.AppsecTrend(ctx, db.AppsecTrendParams{
		WorkspaceID: ws, FirstDay: today.AddDate(0, 0, 1-trendDays), LastDay: today,
	})
	if err != nil {
		return nil, err
	}
	out.Trend30d = make([]api.AppSecTrendPoint, len(trend))
	for i, d := range trend {
		bySeverity := severityCounts(int64(d.OpenCritical), int64(d.OpenHigh), int64(d.OpenMedium), int64(d.OpenLow), int64(d.OpenInfo))
		open := 0
		for _, n := range bySeverity {
			open += n
		}
		accepted := int(d.Accepted)
		out.Trend30d[i] = api.AppSecTrendPoint{
			Date: openapi_types.Date{Time: d.Day}, Open: open, Fixed: int(d.Fixed), Accepted: &accepted, OpenBySeverity: &bySeverity,
		}
	}
	return api.GetAppSecurityDashboard200JSONResponse{Body: out}, nil
}

func reportOut(r db.AppsecReport, project string) api.AppSecReport {
	bySeverity := map[string]int{}
	_ = json.Unmarshal(r.BySeverity, &bySeverity) // written by appsec.Store from a map
	return api.AppSecReport{
		Id: r.ID, ProjectId: r.ProjectID, Project: project, Format: api.AppSecReportFormat(r.Format), Tool: r.Tool,
		ToolVersion: optional(r.ToolVersion), Artifact: optional(r.Artifact), UploadedBy: optional(r.UploadedBy),
		UploadedByUserId: r.UploadedByUserID, CreatedAt: r.CreatedAt.UTC(), Findings: int(r.Findings),
		New: int(r.NewFindings), Reopened: int(r.Reopened), Fixed: int(r.Fixed), BySeverity: bySeverity,
	}
}

func findingOut(f db.AppsecFinding, project string) api.AppSecFinding {
	reportID := f.ReportID
	return api.AppSecFinding{
		Id: f.ID, ProjectId: f.ProjectID, Project: project, Tool: f.Tool, Category: api.AppSecCategory(f.Category),
		SubCategory: optional(f.SubCategory), RuleId: optional(f.RuleID), Title: f.Title, Description: optional(f.Description),
		Severity: api.AppSecSeverity(f.Severity), Status: api.AppSecStatus(f.Status),
		Package: optional(f.Package), InstalledVersion: optional(f.InstalledVersion), FixedVersion: optional(f.FixedVersion),
		Location: optional(f.Location), Url: optional(f.Url), Note: optional(f.Note), StatusChangedAt: utc(f.StatusChangedAt),
		FirstSeen: f.FirstSeen.UTC(), LastSeen: f.LastSeen.UTC(), FixedAt: utc(f.FixedAt), ReportId: &reportID,
	}
}

// severityCounts keys the non-zero counts of open findings by severity name.
func severityCounts(critical, high, medium, low, info int64) map[string]int {
	out := map[string]int{}
	for i, n := range []int64{critical, high, medium, low, info} {
		if n > 0 {
			out[string(appsec.Severities[i])] = int(n)
		}
	}
	return out
}

// projectFilter refuses a project name PostgreSQL cannot compare or store: one with a NUL
// character, which text columns refuse (the query would fail with a 500).
func projectFilter(project *string) error {
	if project != nil && strings.ContainsRune(*project, 0) {
		return problem.Invalid(problem.FieldError{Field: "project", Message: "must not contain NUL characters"})
	}
	return nil
}

// enumArg turns an optional enum filter into the nullable text argument of a query.
func enumArg[T ~string](v *T) *string {
	if v == nil {
		return nil
	}
	s := string(*v)
	return &s
}

// rankArg reads the severity rank a findings cursor carries.
func rankArg(afterName *string) (*int16, error) {
	if afterName == nil {
		return nil, nil
	}
	n, err := strconv.ParseInt(*afterName, 10, 16)
	if err != nil {
		return nil, problem.Invalid(problem.FieldError{Field: "cursor", Message: "not a cursor returned by this API"})
	}
	rank := int16(n)
	return &rank, nil
}
