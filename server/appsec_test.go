package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secuaas/secumon/server/domain/access"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

const imageProject = "registry.example.com/shop/api"

func scannerReport(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("domain", "appsec", "testdata", name))
	require.NoError(t, err)
	return b
}

// upload posts a report file as it is, the way CI would (curl --data-binary @report.json).
func upload(t *testing.T, c *client.ClientWithResponses, params *client.UploadAppSecurityReportParams, body []byte) *client.UploadAppSecurityReportResponse {
	t.Helper()
	res, err := c.UploadAppSecurityReportWithBodyWithResponse(context.Background(), params, "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	return res
}

func uploadOK(t *testing.T, c *client.ClientWithResponses, name string) client.AppSecReport {
	t.Helper()
	res := upload(t, c, nil, scannerReport(t, name))
	require.Equal(t, http.StatusCreated, res.StatusCode(), string(res.Body))
	return *res.JSON201
}

func dashboard(t *testing.T, c *client.ClientWithResponses) client.AppSecurityDashboard {
	t.Helper()
	res, err := c.GetAppSecurityDashboardWithResponse(context.Background(), nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), string(res.Body))
	return *res.JSON200
}

// findingByRule finds the one finding of a rule through the list filters.
func findingByRule(t *testing.T, c *client.ClientWithResponses, project, rule string) client.AppSecFinding {
	t.Helper()
	res, err := c.ListAppSecurityFindingsWithResponse(context.Background(), &client.ListAppSecurityFindingsParams{Project: &project, Limit: ptr(1000)})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), string(res.Body))
	for _, f := range res.JSON200.Findings {
		if f.RuleId != nil && *f.RuleId == rule {
			return f
		}
	}
	t.Fatalf("no finding %s in %s", rule, project)
	return client.AppSecFinding{}
}

func trendDay(trend []client.AppSecTrendPoint, daysAgo int) client.AppSecTrendPoint {
	return trend[len(trend)-1-daysAgo]
}

// TestAppSecurityPosture follows a project through its scans: a Trivy image scan and a
// CodeQL SARIF log fill the dashboard; a rebuilt image without one CVE fixes it, which the
// 30-day trend shows; triage accepts a finding that later reports leave alone.
func TestAppSecurityPosture(t *testing.T) {
	env := servertest.Start(t)
	ctx := context.Background()
	ci := env.Token(t, "default", access.Operator)
	c := env.Client(t, ci.Token)

	empty := dashboard(t, c)
	assert.Empty(t, empty.Projects)
	assert.Empty(t, empty.TopFindings)
	assert.Empty(t, empty.TotalsBySeverity)
	assert.Equal(t, []string{"dependency_vulnerabilities", "container_image_hygiene", "runtime_compromise", "network_security_posture"}, empty.SubCategories)
	require.Len(t, empty.Trend30d, 30)
	assert.Equal(t, client.AppSecTrendPoint{Date: trendDay(empty.Trend30d, 0).Date, Open: 0, Fixed: 0, Accepted: ptr(0), OpenBySeverity: &map[string]int{}}, trendDay(empty.Trend30d, 0))
	assert.Equal(t, time.Now().UTC().Format(time.DateOnly), trendDay(empty.Trend30d, 0).Date.Format(time.DateOnly))

	// The first image scan: the project is the image without its tag.
	trivy := uploadOK(t, c, "trivy-image.json")
	assert.Equal(t, imageProject, trivy.Project)
	assert.Equal(t, client.AppSecReportFormatTrivy, trivy.Format)
	assert.Equal(t, "trivy", trivy.Tool)
	assert.Equal(t, "0.56.2", *trivy.ToolVersion)
	assert.Equal(t, "registry.example.com/shop/api:1.4.2", *trivy.Artifact)
	assert.Equal(t, 10, trivy.Findings)
	assert.Equal(t, 10, trivy.New)
	assert.Equal(t, 0, trivy.Fixed)
	assert.Equal(t, map[string]int{"critical": 2, "high": 3, "medium": 2, "low": 2, "info": 1}, trivy.BySeverity)
	assert.Equal(t, "test-operator", *trivy.UploadedBy)
	assert.Equal(t, ci.UserID, *trivy.UploadedByUserId)

	codeql := uploadOK(t, c, "codeql.sarif")
	assert.Equal(t, "github.com/acme/shop", codeql.Project, "from the run's repository URI")
	assert.Equal(t, client.AppSecReportFormatSarif, codeql.Format)
	assert.Equal(t, "CodeQL", codeql.Tool)
	assert.Equal(t, 4, codeql.New)

	d := dashboard(t, c)
	assert.Equal(t, map[string]int{"critical": 3, "high": 4, "medium": 3, "low": 3, "info": 1}, d.TotalsBySeverity)
	assert.Equal(t, map[string]int{"open": 14}, d.TotalsByStatus)
	require.Len(t, d.Projects, 2)
	assert.Equal(t, imageProject, d.Projects[0].Name, "two critical findings before one")
	assert.Equal(t, 10, d.Projects[0].OpenFindings)
	assert.Equal(t, map[string]int{"critical": 1, "high": 1, "medium": 1, "low": 1}, *d.Projects[1].BySeverity)
	assert.Equal(t, trivy.ProjectId, d.Projects[0].Id)
	assert.NotNil(t, d.Projects[0].LastReportAt)
	require.Len(t, d.TopFindings, 10)
	for i, f := range d.TopFindings[:3] {
		assert.Equal(t, client.AppSecSeverityCritical, f.Severity, "top finding %d", i)
		assert.Equal(t, client.AppSecStatusOpen, f.Status)
	}
	assert.Equal(t, client.AppSecSeverityHigh, d.TopFindings[3].Severity)
	assert.Subset(t, d.SubCategories, []string{"CWE-89", "CWE-79", "exposed_secrets", "code_weakness"})
	assert.Equal(t, "dependency_vulnerabilities", d.SubCategories[0], "the posture areas come first")
	assert.Equal(t, 14, trendDay(d.Trend30d, 0).Open)

	// Pretend those scans ran yesterday, then the rebuilt image (tag 1.4.3, libssl3
	// upgraded) no longer has CVE-2023-5363.
	_, err := env.Pool.Exec(ctx, `UPDATE appsec_snapshots SET day = day - 1 WHERE workspace_id = $1`, env.Workspace)
	require.NoError(t, err)
	rescan := uploadOK(t, c, "trivy-image-rescan.json")
	assert.Equal(t, trivy.ProjectId, rescan.ProjectId, "a new tag of the image is the same project")
	assert.Equal(t, 9, rescan.Findings)
	assert.Equal(t, 0, rescan.New)
	assert.Equal(t, 1, rescan.Fixed)

	fixed := findingByRule(t, c, imageProject, "CVE-2023-5363")
	assert.Equal(t, client.AppSecStatusFixed, fixed.Status)
	require.NotNil(t, fixed.FixedAt)
	assert.WithinDuration(t, time.Now(), *fixed.FixedAt, time.Minute)
	stillThere := findingByRule(t, c, imageProject, "CVE-2024-2511")
	assert.Equal(t, client.AppSecStatusOpen, stillThere.Status)
	assert.Equal(t, "3.0.11-1~deb12u3", *stillThere.InstalledVersion, "details follow the latest report")
	assert.Equal(t, rescan.Id, *stillThere.ReportId)
	assert.True(t, stillThere.LastSeen.After(stillThere.FirstSeen))
	assert.Equal(t, client.AppSecStatusOpen, findingByRule(t, c, "github.com/acme/shop", "js/sql-injection").Status,
		"another tool's findings are not fixed by a Trivy report")

	d = dashboard(t, c)
	assert.Equal(t, map[string]int{"open": 13, "fixed": 1}, d.TotalsByStatus)
	assert.Equal(t, 3, d.TotalsBySeverity["high"], "the fixed high CVE left the open totals (4 before)")
	today, yesterday := trendDay(d.Trend30d, 0), trendDay(d.Trend30d, 1)
	assert.Equal(t, 13, today.Open)
	assert.Equal(t, 1, today.Fixed)
	assert.Equal(t, 14, yesterday.Open)
	assert.Equal(t, 0, yesterday.Fixed)
	assert.Equal(t, map[string]int{"critical": 3, "high": 4, "medium": 3, "low": 3, "info": 1}, *yesterday.OpenBySeverity)
	assert.Equal(t, 0, trendDay(d.Trend30d, 2).Open, "nothing before the first scan")
	assert.Equal(t, yesterday.Date.AddDate(0, 0, 1), today.Date.Time)

	// The old image again: the CVE reopens.
	back := uploadOK(t, c, "trivy-image.json")
	assert.Equal(t, 1, back.Reopened)
	assert.Equal(t, 0, back.New)
	reopened := findingByRule(t, c, imageProject, "CVE-2023-5363")
	assert.Equal(t, client.AppSecStatusOpen, reopened.Status)
	assert.Nil(t, reopened.FixedAt)
	assert.Equal(t, fixed.Id, reopened.Id, "the same finding, not a new one")

	// Triage: the risk is accepted; a report without the CVE leaves it accepted.
	note := "Only reachable from the admin network; upgrade planned with the next base image."
	acc, err := c.UpdateAppSecurityFindingWithResponse(ctx, reopened.Id, nil, client.AppSecFindingUpdate{Status: client.AppSecStatusAccepted, Note: &note})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, acc.StatusCode(), string(acc.Body))
	assert.Equal(t, client.AppSecStatusAccepted, acc.JSON200.Status)
	assert.Equal(t, note, *acc.JSON200.Note)
	assert.NotNil(t, acc.JSON200.StatusChangedAt)
	assert.Equal(t, imageProject, acc.JSON200.Project)
	assert.Equal(t, 1, *trendDay(dashboard(t, c).Trend30d, 0).Accepted, "triage rewrites today's snapshot")

	again := uploadOK(t, c, "trivy-image-rescan.json")
	assert.Equal(t, 0, again.Fixed, "an accepted finding is not fixed by its absence")
	got, err := c.GetAppSecurityFindingWithResponse(ctx, reopened.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, client.AppSecStatusAccepted, got.JSON200.Status)
	assert.Equal(t, note, *got.JSON200.Note)
	uploadOK(t, c, "trivy-image.json")
	got, err = c.GetAppSecurityFindingWithResponse(ctx, reopened.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, client.AppSecStatusAccepted, got.JSON200.Status, "nor reopened by its return")

	// Back to open, note kept when absent; fixed by hand sets fixed_at.
	reset, err := c.UpdateAppSecurityFindingWithResponse(ctx, reopened.Id, nil, client.AppSecFindingUpdate{Status: client.AppSecStatusFixed})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, reset.StatusCode(), string(reset.Body))
	assert.NotNil(t, reset.JSON200.FixedAt)
	assert.Equal(t, note, *reset.JSON200.Note)

	d = dashboard(t, c)
	assert.Equal(t, map[string]int{"open": 13, "fixed": 1}, d.TotalsByStatus)
}

func TestAppSecurityListsAndFilters(t *testing.T) {
	env := servertest.Start(t)
	ctx := context.Background()
	c := env.Client(t, env.OwnerToken)
	uploadOK(t, c, "trivy-image.json")
	gosec := upload(t, c, &client.UploadAppSecurityReportParams{Project: ptr("shop-backend"), Format: ptr(client.UploadAppSecurityReportParamsFormatSarif)}, scannerReport(t, "gosec.sarif"))
	require.Equal(t, http.StatusCreated, gosec.StatusCode(), string(gosec.Body))
	assert.Equal(t, "shop-backend", gosec.JSON201.Project, "the project parameter wins")
	assert.Equal(t, 4, gosec.JSON201.Findings, "the suppressed result is left out")

	// Findings: most severe first, paged with a cursor.
	var all []client.AppSecFinding
	var cursor *string
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10)
		res, err := c.ListAppSecurityFindingsWithResponse(ctx, &client.ListAppSecurityFindingsParams{Limit: ptr(3), Cursor: cursor})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode(), string(res.Body))
		assert.Equal(t, 14, res.JSON200.Count)
		all = append(all, res.JSON200.Findings...)
		if cursor = res.JSON200.NextCursor; cursor == nil {
			break
		}
	}
	require.Len(t, all, 14)
	ids := map[uuid.UUID]bool{}
	rank := map[client.AppSecSeverity]int{"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
	for i, f := range all {
		assert.False(t, ids[f.Id], "no finding twice across pages")
		ids[f.Id] = true
		if i > 0 {
			assert.LessOrEqual(t, rank[all[i-1].Severity], rank[f.Severity], "most severe first")
		}
	}

	count := func(p client.ListAppSecurityFindingsParams) int {
		res, err := c.ListAppSecurityFindingsWithResponse(ctx, &p)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode(), string(res.Body))
		assert.Len(t, res.JSON200.Findings, res.JSON200.Count)
		return res.JSON200.Count
	}
	assert.Equal(t, 2, count(client.ListAppSecurityFindingsParams{Severity: ptr(client.AppSecSeverityCritical)}))
	assert.Equal(t, 4, count(client.ListAppSecurityFindingsParams{Project: ptr("shop-backend")}))
	assert.Equal(t, 2, count(client.ListAppSecurityFindingsParams{Project: ptr("shop-backend"), Severity: ptr(client.AppSecSeverityHigh)}))
	assert.Equal(t, 1, count(client.ListAppSecurityFindingsParams{Category: ptr(client.AppSecCategorySecret)}))
	assert.Equal(t, 2, count(client.ListAppSecurityFindingsParams{Category: ptr(client.AppSecCategoryMisconfiguration)}))
	assert.Equal(t, 0, count(client.ListAppSecurityFindingsParams{Status: ptr(client.AppSecStatusAccepted)}))
	assert.Equal(t, 0, count(client.ListAppSecurityFindingsParams{Project: ptr("nope")}))

	bad, err := c.ListAppSecurityFindingsWithResponse(ctx, &client.ListAppSecurityFindingsParams{Severity: ptr(client.AppSecSeverity("urgent"))})
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, bad.StatusCode())
	assert.Contains(t, string(bad.Body), `"field":"severity"`)

	// Reports: newest first, filtered by project, one by id.
	reports, err := c.ListAppSecurityReportsWithResponse(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, 2, reports.JSON200.Count)
	assert.Equal(t, "shop-backend", reports.JSON200.Reports[0].Project)
	assert.Equal(t, imageProject, reports.JSON200.Reports[1].Project)
	page, err := c.ListAppSecurityReportsWithResponse(ctx, &client.ListAppSecurityReportsParams{Limit: ptr(1)})
	require.NoError(t, err)
	require.NotNil(t, page.JSON200.NextCursor)
	next, err := c.ListAppSecurityReportsWithResponse(ctx, &client.ListAppSecurityReportsParams{Limit: ptr(1), Cursor: page.JSON200.NextCursor})
	require.NoError(t, err)
	require.Len(t, next.JSON200.Reports, 1)
	assert.Equal(t, imageProject, next.JSON200.Reports[0].Project)
	assert.Nil(t, next.JSON200.NextCursor)
	one, err := c.ListAppSecurityReportsWithResponse(ctx, &client.ListAppSecurityReportsParams{Project: ptr("shop-backend")})
	require.NoError(t, err)
	assert.Equal(t, 1, one.JSON200.Count)
	got, err := c.GetAppSecurityReportWithResponse(ctx, gosec.JSON201.Id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, got.StatusCode())
	assert.Equal(t, *gosec.JSON201, *got.JSON200)
	missing, err := c.GetAppSecurityReportWithResponse(ctx, uuid.New(), nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, missing.StatusCode())
}

// TestAppSecurityRefusals: bad reports are 400 naming what is wrong and change nothing;
// viewers cannot post; another workspace sees none of it.
func TestAppSecurityRefusals(t *testing.T) {
	env := servertest.Start(t)
	ctx := context.Background()
	c := env.Client(t, env.OwnerToken)
	report := uploadOK(t, c, "trivy-image.json")
	finding := findingByRule(t, c, imageProject, "CVE-2024-45490")

	for name, tc := range map[string]struct {
		params *client.UploadAppSecurityReportParams
		body   string
		field  string
	}{
		"malformed JSON":   {nil, `{"SchemaVersion": 2, "Results": [`, "body"},
		"not a report":     {nil, `{"alerts": [{"name": "X-Frame-Options header not set"}]}`, "body"},
		"unknown format":   {&client.UploadAppSecurityReportParams{Format: ptr(client.UploadAppSecurityReportParamsFormat("cyclonedx"))}, string(scannerReport(t, "trivy-image.json")), "format"},
		"format mismatch":  {&client.UploadAppSecurityReportParams{Format: ptr(client.UploadAppSecurityReportParamsFormatSarif)}, string(scannerReport(t, "trivy-image.json")), "version"},
		"old Trivy schema": {nil, `{"SchemaVersion": 1, "ArtifactName": "alpine:3.19"}`, "SchemaVersion"},
		"no project":       {nil, `{"SchemaVersion": 2, "ArtifactName": ".", "ArtifactType": "filesystem"}`, "project"},
		"empty project":    {&client.UploadAppSecurityReportParams{Project: ptr("")}, string(scannerReport(t, "gosec.sarif")), "project"},
	} {
		t.Run(name, func(t *testing.T) {
			res := upload(t, c, tc.params, []byte(tc.body))
			require.Equal(t, http.StatusBadRequest, res.StatusCode(), string(res.Body))
			assert.Equal(t, "application/problem+json", res.HTTPResponse.Header.Get("Content-Type"))
			var p struct {
				Errors []struct{ Field string } `json:"errors"`
			}
			require.NoError(t, json.Unmarshal(res.Body, &p))
			require.NotEmpty(t, p.Errors)
			assert.Equal(t, tc.field, p.Errors[0].Field)
		})
	}
	bad, err := c.UpdateAppSecurityFindingWithBodyWithResponse(ctx, finding.Id, nil, "application/json", strings.NewReader(`{"status": "ignored"}`))
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, bad.StatusCode())
	assert.Contains(t, string(bad.Body), `"field":"status"`)
	list, err := c.ListAppSecurityReportsWithResponse(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, list.JSON200.Count, "refused reports stored nothing")
	assert.Equal(t, client.AppSecStatusOpen, findingByRule(t, c, imageProject, "CVE-2024-45490").Status)

	// Viewers read, never write.
	viewer := env.Client(t, env.Token(t, "default", access.Viewer).Token)
	denied := upload(t, viewer, nil, scannerReport(t, "trivy-image.json"))
	assert.Equal(t, http.StatusForbidden, denied.StatusCode())
	triage, err := viewer.UpdateAppSecurityFindingWithResponse(ctx, finding.Id, nil, client.AppSecFindingUpdate{Status: client.AppSecStatusAccepted})
	require.NoError(t, err)
	assert.Equal(t, http.StatusForbidden, triage.StatusCode())
	assert.Len(t, dashboard(t, viewer).Projects, 1)

	// Another workspace: 404 for A's ids, an empty dashboard, and A unchanged.
	env.NewWorkspace(t, "other")
	other := env.Client(t, env.Token(t, "other", access.Owner).Token)
	r, err := other.GetAppSecurityReportWithResponse(ctx, report.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, r.StatusCode())
	f, err := other.GetAppSecurityFindingWithResponse(ctx, finding.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, f.StatusCode())
	u, err := other.UpdateAppSecurityFindingWithResponse(ctx, finding.Id, nil, client.AppSecFindingUpdate{Status: client.AppSecStatusAccepted})
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, u.StatusCode())
	assert.Empty(t, dashboard(t, other).Projects)
	assert.Equal(t, client.AppSecStatusOpen, findingByRule(t, c, imageProject, "CVE-2024-45490").Status)
}

// Scanner reports may be far larger than the API's usual 1 MiB bodies: this operation takes
// up to 20 MiB, and only this one.
func TestAppSecurityReportBodyLimit(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)

	var vulns []string
	for i, size := 0, 0; size < 3<<19; i++ {
		v := fmt.Sprintf(`{"VulnerabilityID": "CVE-2024-%05d", "PkgName": "pkg-%d", "InstalledVersion": "1.0.%d", "Severity": "MEDIUM", "Description": "%s"}`,
			i, i%500, i, strings.Repeat("x", 400))
		vulns, size = append(vulns, v), size+len(v)+1
	}
	big := `{"SchemaVersion": 2, "ArtifactName": "registry.example.com/big:1", "ArtifactType": "container_image", "Results": [{"Target": "app/go.sum", "Class": "lang-pkgs", "Type": "gomod", "Vulnerabilities": [` +
		strings.Join(vulns, ",") + `]}]}`
	require.Greater(t, len(big), 3<<19, "over the usual 1 MiB")
	res := upload(t, c, nil, []byte(big))
	require.Equal(t, http.StatusCreated, res.StatusCode(), string(res.Body))
	assert.Equal(t, len(vulns), res.JSON201.Findings)

	huge := make([]byte, 20<<20+1)
	copy(huge, `{"SchemaVersion": 2}`)
	tooBig := upload(t, c, nil, huge)
	assert.Equal(t, http.StatusRequestEntityTooLarge, tooBig.StatusCode())
	assert.Contains(t, string(tooBig.Body), "20971520 bytes")

	// Other operations keep the 1 MiB cap.
	host, err := c.CreateHostWithBodyWithResponse(context.Background(), nil, "application/json", bytes.NewReader([]byte(big)))
	require.NoError(t, err)
	assert.Equal(t, http.StatusRequestEntityTooLarge, host.StatusCode())
}

// A CI job that retries an upload with the same Idempotency-Key ingests the report once.
func TestAppSecurityUploadRetryIsIdempotent(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	key := uuid.NewString()
	params := &client.UploadAppSecurityReportParams{IdempotencyKey: &key}
	first := upload(t, c, params, scannerReport(t, "trivy-image.json"))
	require.Equal(t, http.StatusCreated, first.StatusCode(), string(first.Body))
	retry := upload(t, c, params, scannerReport(t, "trivy-image.json"))
	require.Equal(t, http.StatusCreated, retry.StatusCode(), string(retry.Body))
	assert.Equal(t, first.JSON201.Id, retry.JSON201.Id)
	assert.Equal(t, "true", retry.HTTPResponse.Header.Get("Idempotent-Replayed"))
	list, err := c.ListAppSecurityReportsWithResponse(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, 1, list.JSON200.Count)
}

// NUL characters, which PostgreSQL text refuses, never reach the database: report texts lose
// them, a project parameter holding one is a 400 naming it (these were 500s).
func TestAppSecurityNULCharacters(t *testing.T) {
	env := servertest.Start(t)
	ctx := context.Background()
	c := env.Client(t, env.OwnerToken)

	stored := upload(t, c, nil, []byte(`{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "gosec"}},
		"results": [{"ruleId": "G\u0000101", "message": {"text": "secret\u0000"}}]}]}`))
	require.Equal(t, http.StatusCreated, stored.StatusCode(), string(stored.Body))
	assert.Equal(t, "G101", deref(findingByRule(t, c, "gosec", "G101").RuleId))

	nul := "a\x00b"
	bad := upload(t, c, &client.UploadAppSecurityReportParams{Project: &nul}, scannerReport(t, "gosec.sarif"))
	require.Equal(t, http.StatusBadRequest, bad.StatusCode(), string(bad.Body))
	assert.Contains(t, string(bad.Body), `"field":"project"`)
	reports, err := c.ListAppSecurityReportsWithResponse(ctx, &client.ListAppSecurityReportsParams{Project: &nul})
	require.NoError(t, err)
	require.Equal(t, http.StatusBadRequest, reports.StatusCode(), string(reports.Body))
	assert.Contains(t, string(reports.Body), `"field":"project"`)
	findings, err := c.ListAppSecurityFindingsWithResponse(ctx, &client.ListAppSecurityFindingsParams{Project: &nul})
	require.NoError(t, err)
	require.Equal(t, http.StatusBadRequest, findings.StatusCode(), string(findings.Body))
	assert.Contains(t, string(findings.Body), `"field":"project"`)
}
