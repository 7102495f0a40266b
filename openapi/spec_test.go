package openapi_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/openapi"
	"github.com/secuaas/secumon/probes"
)

// referenceOperations is the summary table of the API reference (secumon-api-v2.fr.txt):
// the 62 operations with the minimal role of each ("tous" = viewer, "owner/admin" = admin,
// "owner/admin/operator" = operator). The document must have exactly these plus
// addedOperations, no more.
var referenceOperations = map[string]string{
	"GET /hosts": "viewer", "GET /hosts/{id}": "viewer", "POST /hosts": "admin",
	"PUT /hosts/{id}": "admin", "DELETE /hosts/{id}": "admin", "GET /hosts/{id}/latest": "viewer",
	"GET /hosts/{id}/snmp-metrics": "viewer", "GET /hosts/{id}/uptime": "viewer",
	"GET /hosts/{id}/logs": "viewer", "POST /hosts/ai-tag": "admin", "POST /hosts/{id}/ai-tag": "admin",
	"GET /checks": "viewer", "GET /checks/{id}": "viewer", "POST /checks": "admin",
	"PUT /checks/{id}": "admin", "DELETE /checks/{id}": "admin", "GET /checks/{id}/last-result": "viewer",
	"POST /checks/{id}/run": "operator", "GET /metrics/checks": "viewer", "GET /snmp-devices": "viewer",
	"GET /incidents": "viewer", "GET /incidents/{id}": "viewer", "POST /incidents": "operator",
	"POST /incidents/{id}/ack": "operator", "PUT /incidents/{id}/acknowledge": "operator",
	"POST /incidents/{id}/resolve": "operator", "PUT /incidents/{id}/resolve": "operator",
	"POST /incidents/{id}/updates": "operator", "POST /incidents/{id}/ai-mode": "operator",
	"DELETE /incidents/{id}/ai-mode": "operator", "GET /incidents/{id}/ai-cost": "viewer",
	"GET /alert-policies": "viewer", "GET /alert-policies/{id}": "viewer", "POST /alert-policies": "admin",
	"PUT /alert-policies/{id}": "admin", "DELETE /alert-policies/{id}": "admin",
	"GET /oncall-schedules": "viewer", "GET /oncall-schedules/{id}": "viewer",
	"POST /oncall-schedules": "admin", "PUT /oncall-schedules/{id}": "admin",
	"DELETE /oncall-schedules/{id}": "admin", "GET /oncall/current": "viewer",
	"GET /status-pages": "viewer", "GET /status-pages/{id}": "viewer", "POST /status-pages": "admin",
	"PUT /status-pages/{id}": "admin", "DELETE /status-pages/{id}": "admin",
	"GET /maintenance-windows": "viewer", "GET /maintenance-windows/{id}": "viewer",
	"POST /maintenance-windows": "admin", "PUT /maintenance-windows/{id}": "admin",
	"POST /maintenance-windows/{id}/start": "admin", "POST /maintenance-windows/{id}/end": "admin",
	"POST /maintenance-windows/{id}/cancel": "admin", "GET /status": "viewer", "GET /events": "viewer",
	"GET /dashboard": "viewer", "GET /dashboards/app-security": "viewer", "GET /storms": "viewer",
	"GET /workers": "viewer", "DELETE /workers/{id}": "admin", "GET /workspaces": "viewer",
}

// addedOperations are the operations the contract adds to the reference's 62, with their
// roles: scanner-report ingestion and finding triage behind the app-security dashboard
// (issue 7). Reads are viewer, writes operator, like the reference's incident actions. And the
// rotation of a heartbeat check's ping URL (issue 16), operator like an on-demand run.
var addedOperations = map[string]string{
	"POST /app-security/reports": "operator", "GET /app-security/reports": "viewer",
	"GET /app-security/reports/{id}": "viewer", "GET /app-security/findings": "viewer",
	"GET /app-security/findings/{id}": "viewer", "PUT /app-security/findings/{id}": "operator",
	"POST /checks/{id}/ping-token": "operator",
	// Incident operations (issue 15): writes operator like the reference's incident actions.
	"PUT /incidents/{id}": "operator", "POST /incidents/{id}/snooze": "operator",
	"DELETE /incidents/{id}/snooze": "operator", "POST /incidents/{id}/merge": "operator",
	"GET /incidents/stats": "viewer",
	// Escalation policies (issue 15): written by admins like alert policies.
	"GET /escalation-policies": "viewer", "POST /escalation-policies": "admin",
	"GET /escalation-policies/{id}": "viewer", "PUT /escalation-policies/{id}": "admin",
	"DELETE /escalation-policies/{id}": "admin",
	// Locations (issue 17): where checks run and which of them no live worker serves, beside
	// the reference's bare array of workers.
	"GET /workers/locations": "viewer",
	// Remote workers (issue 17): worker tokens are managed by admins; the worker protocol
	// takes a worker token (the workerToken scheme), never a user's, whatever its role says.
	"GET /worker-tokens": "admin", "POST /worker-tokens": "admin", "DELETE /worker-tokens/{id}": "admin",
	"POST /worker/heartbeat": "viewer", "POST /worker/claims": "viewer", "POST /worker/results": "viewer",
}

// contractOperations is every operation the document must have: the reference's and the added ones.
func contractOperations() map[string]string {
	all := map[string]string{}
	for _, m := range []map[string]string{referenceOperations, addedOperations} {
		for k, v := range m {
			all[k] = v
		}
	}
	return all
}

func TestReferenceHas62Operations(t *testing.T) {
	assert.Len(t, referenceOperations, 62)
	for key := range addedOperations {
		assert.NotContains(t, referenceOperations, key, "an added operation must not be one of the reference's")
	}
	assert.Len(t, contractOperations(), 62+len(addedOperations))
}

func loadMain(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi.Load(context.Background(), openapi.MainYAML)
	require.NoError(t, err, "the document and every example in it must validate")
	return doc
}

func TestMainDocumentMatchesReference(t *testing.T) {
	doc := loadMain(t)
	require.Equal(t, "3.0.3", doc.OpenAPI)

	serverURLs := []string{}
	for _, s := range doc.Servers {
		serverURLs = append(serverURLs, s.URL)
	}
	assert.Contains(t, serverURLs, "https://api.secumon.secuaas.ovh/api/v2")
	assert.Contains(t, serverURLs, "http://127.0.0.1:8080/api/v2")
	require.NotNil(t, doc.Components.SecuritySchemes["bearerAuth"])
	assert.Equal(t, "bearer", doc.Components.SecuritySchemes["bearerAuth"].Value.Scheme)
	require.NotNil(t, doc.Security, "bearer auth must apply globally")

	want := contractOperations()
	seen := map[string]bool{}
	operationIDs := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			key := method + " " + path
			seen[key] = true
			t.Run(key, func(t *testing.T) {
				wantRole, ok := want[key]
				require.True(t, ok, "operation neither in the reference nor in addedOperations")
				assert.Equal(t, wantRole, op.Extensions["x-required-role"], "x-required-role")
				assert.NotEmpty(t, op.OperationID)
				assert.False(t, operationIDs[op.OperationID], "duplicate operationId %s", op.OperationID)
				operationIDs[op.OperationID] = true
				assert.Len(t, op.Tags, 1, "one tag per module")
				assert.NotEmpty(t, op.Summary)
				assert.NotEmpty(t, op.Description)
				if strings.HasPrefix(path, "/worker/") {
					// The worker protocol takes worker tokens only (server/edge/contract.WorkerScheme).
					require.NotNil(t, op.Security, "the worker protocol declares its own scheme")
					assert.Equal(t, openapi3.SecurityRequirements{{"workerToken": []string{}}}, *op.Security)
				} else {
					assert.Nil(t, op.Security, "operations inherit the global bearer security")
				}
				assertProblemErrors(t, op)
				assertIDParamIsUUID(t, item, op, path)
			})
		}
	}
	var missing []string
	for key := range want {
		if !seen[key] {
			missing = append(missing, key)
		}
	}
	sort.Strings(missing)
	assert.Empty(t, missing, "operations of the reference (or added ones) missing from the document")
}

// assertProblemErrors proves every operation documents its auth errors and that all of its
// 4xx/5xx responses use the Problem schema as application/problem+json.
func assertProblemErrors(t *testing.T, op *openapi3.Operation) {
	t.Helper()
	for _, code := range []string{"401", "403", "503"} {
		assert.NotNil(t, op.Responses.Value(code), "missing %s response", code)
	}
	errors := 0
	for code, ref := range op.Responses.Map() {
		if code[0] != '4' && code[0] != '5' {
			continue
		}
		errors++
		mt := ref.Value.Content.Get("application/problem+json")
		if assert.NotNil(t, mt, "%s must be application/problem+json", code) {
			assert.Equal(t, "#/components/schemas/Problem", mt.Schema.Ref, "%s must use Problem", code)
		}
	}
	assert.Positive(t, errors)
}

func assertIDParamIsUUID(t *testing.T, item *openapi3.PathItem, op *openapi3.Operation, path string) {
	t.Helper()
	if !strings.Contains(path, "{id}") {
		return
	}
	params := append(openapi3.Parameters{}, item.Parameters...)
	params = append(params, op.Parameters...)
	p := params.GetByInAndName("path", "id")
	require.NotNil(t, p, "path parameter id")
	assert.Equal(t, "uuid", p.Schema.Value.Format)
}

func TestNamedSchemasExist(t *testing.T) {
	doc := loadMain(t)
	for _, name := range []string{
		"Host", "HostCreate", "HostUpdate", "Check", "CheckCreate", "CheckUpdate", "CheckResult",
		"Incident", "IncidentEvent", "IncidentCreate", "AlertPolicy", "AlertPolicyCreate", "AlertPolicyUpdate",
		"OncallSchedule", "OncallScheduleCreate", "StatusPage", "StatusPageCreate", "StatusPageUpdate",
		"MaintenanceWindow", "MaintenanceWindowCreate", "MaintenanceWindowUpdate", "Storm", "Worker",
		"Workspace", "Problem", "PingConfig", "SnmpConfig", "HttpConfig", "TcpConfig", "DnsConfig", "TlsConfig",
		"GrpcConfig", "SmtpConfig", "PostgresConfig", "HeartbeatConfig",
	} {
		assert.Contains(t, doc.Components.Schemas, name)
	}
	// The check types and statuses are the prober library's: every enum value has a prober and
	// every prober's type is in the enum; every status code is in the enum and no other.
	var types, statuses []any
	for _, t := range probes.Types() {
		types = append(types, t)
	}
	for _, s := range probes.Statuses() {
		statuses = append(statuses, float64(s)) // JSON numbers
	}
	assert.ElementsMatch(t, types, doc.Components.Schemas["CheckType"].Value.Enum)
	assert.ElementsMatch(t, statuses, doc.Components.Schemas["CheckStatus"].Value.Enum)
	for _, s := range probes.Statuses() {
		assert.Contains(t, doc.Components.Schemas["CheckStatus"].Value.Description, fmt.Sprintf("%d %s", s, s))
	}
	assert.ElementsMatch(t, []any{"critical", "major", "minor", "warning", "info"}, doc.Components.Schemas["Severity"].Value.Enum)
}

// TestExamplesAreChecked guards the guard: a document with an example that breaks its schema
// must be refused by Load, otherwise TestMainDocumentMatchesReference would prove nothing.
func TestExamplesAreChecked(t *testing.T) {
	broken := strings.Replace(string(openapi.MainYAML),
		"example: {uptime_pct: 99.87, samples: 10080, window: 7d}",
		"example: {uptime_pct: 99.87, samples: 10080, window: 1y}", 1)
	require.NotEqual(t, string(openapi.MainYAML), broken)
	_, err := openapi.Load(context.Background(), []byte(broken))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "window")

	badUUID := strings.Replace(string(openapi.MainYAML),
		"example: 8f3b1c2a-2d44-4e1a-9b77-0a1b2c3d4e5f", "example: not-a-uuid", 1)
	require.NotEqual(t, string(openapi.MainYAML), badUUID)
	_, err = openapi.Load(context.Background(), []byte(badUUID))
	require.Error(t, err, "uuid formats must be checked in examples")
}

// The heartbeat ping routes: success, start, fail and exit status, each by GET, POST and HEAD,
// none needing a token.
func TestPingDocument(t *testing.T) {
	doc, err := openapi.Load(context.Background(), openapi.PingYAML)
	require.NoError(t, err)
	var want, got []string
	for _, path := range []string{"/ping/{token}", "/ping/{token}/start", "/ping/{token}/fail", "/ping/{token}/{exit_status}"} {
		for _, method := range []string{"GET", "POST", "HEAD"} {
			want = append(want, method+" "+path)
		}
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			got = append(got, fmt.Sprintf("%s %s", method, path))
			require.NotNil(t, op.Security, "%s %s must declare security: []", method, path)
			assert.Empty(t, *op.Security)
		}
	}
	assert.ElementsMatch(t, want, got)
}

func TestPublicDocument(t *testing.T) {
	doc, err := openapi.Load(context.Background(), openapi.PublicYAML)
	require.NoError(t, err)
	want := []string{"GET /status/{slug}", "GET /status/{slug}/api", "GET /status/{slug}/badge/{component}", "GET /status/{slug}/rss"}
	var got []string
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			got = append(got, fmt.Sprintf("%s %s", method, path))
			require.NotNil(t, op.Security, "%s %s must declare security: []", method, path)
			assert.Empty(t, *op.Security)
		}
	}
	assert.ElementsMatch(t, want, got)
}
