package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/secuaas/secumon/server/domain/access"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/openapi"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

// operation is one (method, path) of the contract with what the test needs to call it.
type operation struct {
	method, path string
	role         access.Role
	body         []byte // the contract's request example, so that validation passes
	checkIDParam bool   // has a required check_id query parameter
}

func contractOperations(t *testing.T) []operation {
	t.Helper()
	doc, err := openapi.Load(context.Background(), openapi.MainYAML)
	require.NoError(t, err)
	var ops []operation
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			role, err := access.ParseRole(op.Extensions["x-required-role"].(string))
			require.NoError(t, err)
			o := operation{method: method, path: path, role: role}
			if op.RequestBody != nil {
				if mt := op.RequestBody.Value.Content.Get("application/json"); mt != nil && mt.Example != nil {
					o.body, err = json.Marshal(mt.Example)
					require.NoError(t, err)
				}
			}
			if p := op.Parameters.GetByInAndName("query", "check_id"); p != nil && p.Required {
				o.checkIDParam = true
			}
			ops = append(ops, o)
		}
	}
	// The reference's 62 operations, the 6 of app-security ingestion and triage, the
	// rotation of a heartbeat check's ping URL, the 5 incident operations of issue 15 (update,
	// snooze, unsnooze, merge, stats), the 5 of escalation policies, and the 3 of worker
	// tokens 3 of the worker protocol and the locations view (issue 17).
	require.Len(t, ops, 86)
	return ops
}

// TestEveryOperationEnforcesAuthRoleAndTenancy walks every operation of the contract (all are
// built): no token is 401, a viewer on an operator/admin operation is 403, and another
// workspace's owner touching workspace A's resources gets 404 and changes nothing.
func TestEveryOperationEnforcesAuthRoleAndTenancy(t *testing.T) {
	env := servertest.Start(t)
	ctx := context.Background()
	ownerA := env.OwnerToken
	viewerA := env.Token(t, "default", access.Viewer).Token
	env.NewWorkspace(t, "other")
	ownerB := env.Token(t, "other", access.Owner).Token

	// Workspace A's resources, one per kind that has ids today.
	cA := env.Client(t, ownerA)
	host := createHost(t, cA, "a-host")
	ck, err := cA.CreateCheckWithResponse(ctx, nil, client.NewCheckCreate(client.TcpCheckCreate{HostId: host.Id, Name: "a-check", Config: client.TcpConfig{Port: 22}}))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, ck.StatusCode())
	worker, err := env.Queries.RegisterWorker(ctx, db.RegisterWorkerParams{WorkspaceID: env.Workspace, ID: uuid.New(), Name: "a-worker", Location: "loopback"})
	require.NoError(t, err)
	idsOfA := map[string]uuid.UUID{"hosts": host.Id, "checks": ck.JSON201.Id, "workers": worker.ID}
	schedule := createSchedule(t, cA, client.OncallScheduleCreate{Name: "a-schedule", Members: &[]client.OncallMember{oncallAlice}})
	idsOfA["oncall-schedules"] = schedule.Id
	escalation, err := cA.CreateEscalationPolicyWithResponse(ctx, nil, client.EscalationPolicyCreate{Name: "a-escalation",
		Levels: []client.EscalationLevel{{WaitSec: 300, Targets: []client.EscalationTarget{{Type: client.EscalationTargetTypeOncall, ScheduleId: &schedule.Id}}}}})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, escalation.StatusCode(), string(escalation.Body))
	idsOfA["escalation-policies"] = escalation.JSON201.Id
	report := uploadOK(t, cA, "trivy-image.json")
	finding := findingByRule(t, cA, report.Project, "CVE-2024-45490")
	idsOfA["app-security/reports"], idsOfA["app-security/findings"] = report.Id, finding.Id
	page := createPage(t, cA, client.StatusPageCreate{Slug: "a-page", Title: "A's page",
		Components: &[]client.StatusPageComponent{{Name: "A's host", HostId: &host.Id}}})
	idsOfA["status-pages"] = page.Id
	incident, err := cA.CreateIncidentWithResponse(ctx, nil, client.IncidentCreate{Title: "A's incident"})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, incident.StatusCode())
	idsOfA["incidents"] = incident.JSON201.Id
	incidentBefore, err := cA.GetIncidentWithResponse(ctx, incident.JSON201.Id, nil)
	require.NoError(t, err)
	wt, err := cA.CreateWorkerTokenWithResponse(ctx, nil, client.WorkerTokenCreate{Name: "a-workers"})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, wt.StatusCode(), string(wt.Body))
	idsOfA["worker-tokens"] = wt.JSON201.Id
	workerTokenA := *wt.JSON201.Token
	before := snapshotA(t, env, host.Id, ck.JSON201.Id, worker.ID)

	for _, op := range contractOperations(t) {
		t.Run(op.method+" "+op.path, func(t *testing.T) {
			url := env.URL + "/api/v2" + fillPath(op.path, idsOfA)
			if op.checkIDParam {
				url += "?check_id=" + idsOfA["checks"].String()
			}
			assert.Equal(t, http.StatusUnauthorized, send(t, op.method, url, "", op.body), "no token")
			assert.Equal(t, http.StatusUnauthorized, send(t, op.method, url, "smn_forged-token-0123456789abcdef", op.body), "bad token")
			assert.Equal(t, http.StatusUnauthorized, send(t, op.method, url, "wrk_forged-token-0123456789abcdef", op.body), "bad worker token")
			if strings.HasPrefix(op.path, "/worker/") {
				// The worker protocol: a user token, whatever its role, is refused (a valid
				// worker token would claim A's check: TestWorkerTokens covers it).
				assert.Equal(t, http.StatusForbidden, send(t, op.method, url, ownerA, op.body), "user token on the worker protocol")
				return
			}
			assert.Equal(t, http.StatusForbidden, send(t, op.method, url, workerTokenA, op.body), "worker token off the worker protocol")
			if op.role != access.Viewer {
				assert.Equal(t, http.StatusForbidden, send(t, op.method, url, viewerA, op.body), "viewer below %s", op.role)
			}
			if strings.Contains(op.path, "{id}") || op.checkIDParam {
				assert.Equal(t, http.StatusNotFound, send(t, op.method, url, ownerB, op.body), "another workspace's id")
			}
		})
	}
	assert.Equal(t, before, snapshotA(t, env, host.Id, ck.JSON201.Id, worker.ID), "workspace A unchanged")
	assert.Equal(t, schedule, getSchedule(t, cA, schedule.Id).Schedule, "workspace A's on-call schedule unchanged")
	assert.Equal(t, finding, findingByRule(t, cA, report.Project, "CVE-2024-45490"), "workspace A's finding unchanged")
	escNow, err := cA.GetEscalationPolicyWithResponse(ctx, escalation.JSON201.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, *escalation.JSON201, *escNow.JSON200, "workspace A's escalation policy unchanged")
	pageNow, err := cA.GetStatusPageWithResponse(ctx, page.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, page, *pageNow.JSON200, "workspace A's status page unchanged")
	incidentNow, err := cA.GetIncidentWithResponse(ctx, incident.JSON201.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, *incidentBefore.JSON200, *incidentNow.JSON200, "workspace A's incident unchanged")

	listB, err := env.Client(t, ownerB).ListHostsWithResponse(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, 0, listB.JSON200.Count, "workspace B sees none of A's hosts")
	checksB, err := env.Client(t, ownerB).ListChecksWithResponse(ctx, &client.ListChecksParams{HostId: &host.Id})
	require.NoError(t, err)
	assert.Equal(t, 0, checksB.JSON200.Count)
}

// fillPath puts one of A's ids into path: the one keyed by the path before "/{id}"
// ("app-security/findings") when there is one, else by its first segment ("hosts").
func fillPath(path string, ids map[string]uuid.UUID) string {
	kind := strings.Split(strings.TrimPrefix(path, "/"), "/")[0]
	if i := strings.Index(path, "/{id}"); i > 0 {
		if _, ok := ids[strings.TrimPrefix(path[:i], "/")]; ok {
			kind = strings.TrimPrefix(path[:i], "/")
		}
	}
	id, ok := ids[kind]
	if !ok {
		id = uuid.New()
	}
	return strings.ReplaceAll(path, "{id}", id.String())
}

func send(t *testing.T, method, url, token string, body []byte) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode >= 400 {
		assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"), "%s %s → %d", method, url, resp.StatusCode)
	}
	return resp.StatusCode
}

func snapshotA(t *testing.T, env *servertest.Env, hostID, checkID, workerID uuid.UUID) []any {
	t.Helper()
	ctx := context.Background()
	h, err := env.Queries.GetHost(ctx, db.GetHostParams{WorkspaceID: env.Workspace, ID: hostID})
	require.NoError(t, err)
	c, err := env.Queries.GetCheck(ctx, db.GetCheckParams{WorkspaceID: env.Workspace, ID: checkID})
	require.NoError(t, err)
	w, err := env.Queries.GetWorker(ctx, db.GetWorkerParams{WorkspaceID: env.Workspace, ID: workerID})
	require.NoError(t, err)
	return []any{h, c, w}
}

func TestWorkspaceSelection(t *testing.T) {
	env := servertest.Start(t)
	ctx := context.Background()
	wsB := env.NewWorkspace(t, "engineering")
	viewerA := env.Token(t, "default", access.Viewer)

	// The same user becomes admin of workspace B.
	issued, err := adminTokenForUser(env, "engineering", access.Admin, viewerA.UserID)
	require.NoError(t, err)
	_ = issued

	c := env.Client(t, viewerA.Token)
	list, err := c.ListWorkspacesWithResponse(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, list.StatusCode())
	assert.Len(t, list.JSON200.Workspaces, 2)
	assert.Equal(t, env.Workspace.String(), list.JSON200.ActiveWorkspaceId)

	inB := env.Client(t, viewerA.Token, func(_ context.Context, r *http.Request) error {
		r.Header.Set("X-Workspace-ID", wsB.String())
		return nil
	})
	listB, err := inB.ListWorkspacesWithResponse(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, wsB.String(), listB.JSON200.ActiveWorkspaceId)
	// In A the user is a viewer (403 on create); in B an admin.
	denied, err := c.CreateHostWithResponse(ctx, nil, client.HostCreate{Name: "x", Hostname: "127.0.0.1"})
	require.NoError(t, err)
	assert.Equal(t, http.StatusForbidden, denied.StatusCode())
	created, err := inB.CreateHostWithResponse(ctx, nil, client.HostCreate{Name: "x", Hostname: "127.0.0.1"})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, created.StatusCode(), string(created.Body))
	inBHosts, err := inB.ListHostsWithResponse(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, inBHosts.JSON200.Count)
	inAHosts, err := c.ListHostsWithResponse(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, 0, inAHosts.JSON200.Count)

	stranger := env.Client(t, env.OwnerToken, func(_ context.Context, r *http.Request) error {
		r.Header.Set("X-Workspace-ID", wsB.String())
		return nil
	})
	refused, err := stranger.ListHostsWithResponse(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusForbidden, refused.StatusCode(), "not a member of B")
}
