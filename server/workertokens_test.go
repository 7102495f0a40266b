package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/probes/runner/worker"
	"github.com/secuaas/secumon/server/domain/remoteworkers"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

// sdk is the Go SDK (client.New) for token.
func sdk(t *testing.T, env *servertest.Env, token string) *client.Client {
	t.Helper()
	c, err := client.New(env.URL, client.WithToken(token), client.WithRetry(client.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	return c
}

func statusOf(t *testing.T, err error) int {
	t.Helper()
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	return apiErr.StatusCode
}

// makeAllDue makes every check due and unleased again, so that the next claim sees them all.
func makeAllDue(t *testing.T, env *servertest.Env) {
	t.Helper()
	_, err := env.Pool.Exec(context.Background(), `UPDATE check_schedules SET next_run_at = now() - interval '1 second', lease_until = NULL, leased_by = NULL`)
	require.NoError(t, err)
}

func claimedIDs(t *testing.T, c *client.Client, name string) []uuid.UUID {
	t.Helper()
	got, err := c.WorkerProtocol.Claim(context.Background(), client.WorkerClaimRequest{Name: name, MaxChecks: 1000})
	require.NoError(t, err)
	var ids []uuid.UUID
	for _, ck := range got.Checks {
		ids = append(ids, ck.CheckId)
		assert.NotEqual(t, uuid.Nil, ck.RunId, "each claim carries its run id")
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i].String() < ids[j].String() })
	return ids
}

func sortedIDs(ids ...uuid.UUID) []uuid.UUID {
	sort.Slice(ids, func(i, j int) bool { return ids[i].String() < ids[j].String() })
	return ids
}

// TestWorkerTokens: admins make, list and revoke worker tokens through the SDK; a worker
// token serves the worker protocol only, within its scope, and a user token is refused there.
func TestWorkerTokens(t *testing.T) {
	env := servertest.Start(t)
	ctx := context.Background()
	owner := sdk(t, env, env.OwnerToken)

	made, err := owner.WorkerTokens.Create(ctx, client.WorkerTokenCreate{Name: "dc-montreal"})
	require.NoError(t, err)
	require.NotNil(t, made.Token)
	assert.Regexp(t, `^wrk_[A-Za-z0-9_-]{40,}$`, *made.Token)
	list, err := owner.WorkerTokens.List(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, list.Count)
	assert.Equal(t, made.Id, list.WorkerTokens[0].Id)
	assert.Nil(t, list.WorkerTokens[0].Token, "the secret is shown once")
	assert.Nil(t, list.WorkerTokens[0].LastUsedAt, "not used yet")

	// A viewer may not manage worker tokens.
	_, err = sdk(t, env, env.Token(t, "default", "viewer").Token).WorkerTokens.List(ctx)
	assert.Equal(t, http.StatusForbidden, statusOf(t, err))

	// A worker token is refused off the worker protocol; a user token on it.
	wA := sdk(t, env, *made.Token)
	_, err = wA.Hosts.List(ctx, nil)
	assert.Equal(t, http.StatusForbidden, statusOf(t, err), "worker token on GET /hosts")
	_, err = owner.WorkerProtocol.Claim(ctx, client.WorkerClaimRequest{Name: "x", MaxChecks: 1})
	assert.Equal(t, http.StatusForbidden, statusOf(t, err), "owner token on POST /worker/claims")
	assert.Equal(t, http.StatusForbidden, send(t, http.MethodGet, env.URL+"/status/any-page/api", *made.Token, nil),
		"a worker token sees no private status page")

	// Heartbeat: registered in its workspace under an id of the token and the name.
	ack, err := wA.WorkerProtocol.Heartbeat(ctx, client.WorkerHello{Name: "edge-1", Location: ptr("montreal")})
	require.NoError(t, err)
	assert.Equal(t, worker.RemoteIDFor(made.Id, "edge-1"), ack.WorkerId)
	assert.EqualValues(t, remoteworkers.HeartbeatEvery/time.Second, ack.HeartbeatEverySec)
	workers, err := owner.Workers.List(ctx)
	require.NoError(t, err)
	require.Len(t, workers, 1)
	assert.Equal(t, ack.WorkerId, workers[0].Id)
	assert.Equal(t, "montreal", workers[0].Location)

	// Two workspaces with a check each: A's token claims A's only, an installation-wide
	// token both.
	cA := env.Client(t, env.OwnerToken)
	checkA := createCheck(t, cA, createHost(t, cA, "a-host").Id, "a-tcp")
	env.NewWorkspace(t, "other")
	cB := env.Client(t, env.Token(t, "other", "owner").Token)
	checkB := createCheck(t, cB, createHost(t, cB, "b-host").Id, "b-tcp")
	makeAllDue(t, env)
	assert.Equal(t, []uuid.UUID{checkA}, claimedIDs(t, wA, "edge-1"), "a workspace token claims its workspace's checks only")
	shared, err := remoteworkers.CreateToken(ctx, env.Queries, nil, "shared", "")
	require.NoError(t, err)
	wAll := sdk(t, env, shared.Token)
	makeAllDue(t, env)
	assert.Equal(t, sortedIDs(checkA, checkB), claimedIDs(t, wAll, "shared-1"), "an installation token claims every workspace's")
	_, err = wAll.WorkerProtocol.Heartbeat(ctx, client.WorkerHello{Name: "shared-1"})
	require.NoError(t, err)
	workersB, err := cB.ListWorkersWithResponse(ctx, nil)
	require.NoError(t, err)
	require.Len(t, *workersB.JSON200, 1, "an installation token's worker registers in every workspace")
	assert.Equal(t, worker.RemoteIDFor(shared.ID, "shared-1"), (*workersB.JSON200)[0].Id)

	// Results: a foreign (or deleted) check's result is skipped and named, the others are
	// stored; a batch sent twice under one key is stored once.
	now := time.Now().UTC().Truncate(time.Millisecond)
	foreignRun, ownRun := uuid.New(), uuid.New()
	foreign := client.WorkerResultBatch{Name: "edge-1", Results: []client.WorkerResult{
		{WorkspaceId: env.Workspace, CheckId: checkA, RunId: ownRun, Time: now, Status: 0},
		{WorkspaceId: env.Workspace, CheckId: checkB, RunId: foreignRun, Time: now, Status: 0},
		{WorkspaceId: env.Workspace, CheckId: uuid.New(), RunId: foreignRun, Time: now, Status: 0},
	}}
	mixed, err := wA.WorkerProtocol.SendResults(ctx, uuid.NewString(), foreign)
	require.NoError(t, err)
	assert.EqualValues(t, 1, mixed.Accepted)
	require.Len(t, mixed.Skipped, 2)
	assert.EqualValues(t, 1, mixed.Skipped[0].Index)
	assert.Equal(t, checkB, mixed.Skipped[0].CheckId)
	assert.EqualValues(t, 2, mixed.Skipped[1].Index)
	var n int
	require.NoError(t, env.Pool.QueryRow(ctx, `SELECT count(*) FROM check_results WHERE run_id = $1`, ownRun).Scan(&n))
	assert.Equal(t, 1, n, "the batch's own result is stored")
	var foreignStored int
	require.NoError(t, env.Pool.QueryRow(ctx, `SELECT count(*) FROM check_results WHERE run_id = $1`, foreignRun).Scan(&foreignStored))
	assert.Zero(t, foreignStored, "nothing of another workspace's check is stored")

	run := uuid.New()
	batch := client.WorkerResultBatch{Name: "edge-1", Results: []client.WorkerResult{
		{WorkspaceId: env.Workspace, CheckId: checkA, RunId: run, Time: now, Status: 2, LatencyMs: 12.5, Output: ptr("refused"), Metrics: &map[string]float64{"x": 1}},
	}}
	key := uuid.NewString()
	for range 2 {
		got, err := wA.WorkerProtocol.SendResults(ctx, key, batch)
		require.NoError(t, err)
		assert.EqualValues(t, 1, got.Accepted)
	}
	var stored int
	var workerID uuid.UUID
	require.NoError(t, env.Pool.QueryRow(ctx, `SELECT count(*), min(worker_id::text)::uuid FROM check_results WHERE check_id = $1 AND run_id = $2`, checkA, run).Scan(&stored, &workerID))
	assert.Equal(t, 1, stored, "a batch retried under its key is stored once")
	assert.Equal(t, worker.RemoteIDFor(made.Id, "edge-1"), workerID, "the server names the worker")

	// The installation token's keys work too (they belong to no workspace), and are its own:
	// the same key under another token is another key.
	sharedRun := uuid.New()
	for range 2 {
		_, err := wAll.WorkerProtocol.SendResults(ctx, key, client.WorkerResultBatch{Name: "shared-1", Results: []client.WorkerResult{
			{WorkspaceId: env.Workspace, CheckId: checkA, RunId: sharedRun, Time: now, Status: 0},
		}})
		require.NoError(t, err)
	}
	require.NoError(t, env.Pool.QueryRow(ctx, `SELECT count(*) FROM check_results WHERE run_id = $1`, sharedRun).Scan(&stored))
	assert.Equal(t, 1, stored)
	_, err = wAll.WorkerProtocol.SendResults(ctx, key, client.WorkerResultBatch{Name: "shared-1", Results: []client.WorkerResult{
		{WorkspaceId: env.Workspace, CheckId: checkA, RunId: uuid.New(), Time: now, Status: 0},
	}})
	assert.Equal(t, http.StatusUnprocessableEntity, statusOf(t, err), "a key reused for another batch")
	_, err = wAll.WorkerProtocol.SendResults(ctx, uuid.NewString(), client.WorkerResultBatch{Name: "shared-1", Results: []client.WorkerResult{
		{WorkspaceId: env.Workspace, CheckId: checkA, RunId: uuid.New(), Time: now.Add(-40 * 24 * time.Hour), Status: 0},
	}})
	require.Equal(t, http.StatusBadRequest, statusOf(t, err), "a result older than results are kept")
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "results[0].time", apiErr.Errors[0].Field)

	// Revoked: 401 at once.
	require.NoError(t, owner.WorkerTokens.Revoke(ctx, made.Id))
	_, err = wA.WorkerProtocol.Heartbeat(ctx, client.WorkerHello{Name: "edge-1"})
	assert.Equal(t, http.StatusUnauthorized, statusOf(t, err))
	assert.Equal(t, http.StatusNotFound, statusOf(t, owner.WorkerTokens.Revoke(ctx, made.Id)), "revoked already")
	assert.Equal(t, http.StatusNotFound, statusOf(t, sdk(t, env, env.Token(t, "other", "owner").Token).WorkerTokens.Revoke(ctx, shared.ID)),
		"an installation token is nobody's to revoke through the API")
}

// createCheck makes a TCP check of host, run in locations when given (else by any worker).
func createCheck(t *testing.T, c *client.ClientWithResponses, host uuid.UUID, name string, locations ...client.LocationName) uuid.UUID {
	t.Helper()
	ck := client.TcpCheckCreate{HostId: host, Name: name, Config: client.TcpConfig{Port: 9}}
	if len(locations) > 0 {
		ck.Locations = &locations
	}
	r, err := c.CreateCheckWithResponse(context.Background(), nil, client.NewCheckCreate(ck))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), string(r.Body))
	return r.JSON201.Id
}

// TestPinnedWorkerToken: a worker token pinned to a location serves that location only. Its
// workers cannot name another (403 naming `location`, nothing registered, nothing claimed);
// one that names none works in the token's location, claims that location's checks and those
// any worker runs, never another location's; its results are stored under the token's
// location whatever the worker says.
func TestPinnedWorkerToken(t *testing.T) {
	env := servertest.Start(t)
	ctx := context.Background()
	owner := sdk(t, env, env.OwnerToken)
	cA := env.Client(t, env.OwnerToken)
	host := createHost(t, cA, "dc-host")
	checkParis := createCheck(t, cA, host.Id, "paris-tcp", "Paris DC")
	checkLondon := createCheck(t, cA, host.Id, "london-tcp", "London")
	checkAny := createCheck(t, cA, host.Id, "any-tcp")

	made, err := owner.WorkerTokens.Create(ctx, client.WorkerTokenCreate{Name: "paris-probe", Location: ptr("Paris DC")})
	require.NoError(t, err)
	require.NotNil(t, made.Location)
	assert.Equal(t, "Paris DC", *made.Location)
	unpinned, err := owner.WorkerTokens.Create(ctx, client.WorkerTokenCreate{Name: "roaming"})
	require.NoError(t, err)
	assert.Nil(t, unpinned.Location, "an unpinned token shows no location")
	list, err := owner.WorkerTokens.List(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, list.Count)
	locations := map[uuid.UUID]*string{}
	for _, tok := range list.WorkerTokens {
		locations[tok.Id] = tok.Location
	}
	require.NotNil(t, locations[made.Id])
	assert.Equal(t, "Paris DC", *locations[made.Id], "the list shows the pinned location")
	assert.Nil(t, locations[unpinned.Id])

	// Another location: refused, naming the field and the token's location; nothing registered
	// and nothing leased.
	wP := sdk(t, env, *made.Token)
	makeAllDue(t, env)
	refusedAt := func(err error, what string) {
		t.Helper()
		var apiErr *client.APIError
		require.ErrorAs(t, err, &apiErr, what)
		assert.Equal(t, http.StatusForbidden, apiErr.StatusCode, what)
		require.Len(t, apiErr.Errors, 1, what)
		assert.Equal(t, "location", apiErr.Errors[0].Field, what)
		assert.Contains(t, apiErr.Detail, `"Paris DC"`, what+": the detail names the token's location")
	}
	_, err = wP.WorkerProtocol.Heartbeat(ctx, client.WorkerHello{Name: "probe-1", Location: ptr("London")})
	refusedAt(err, "hello from another location")
	_, err = wP.WorkerProtocol.Claim(ctx, client.WorkerClaimRequest{Name: "probe-1", Location: ptr("London"), MaxChecks: 1000})
	refusedAt(err, "claim for another location")
	workers, err := owner.Workers.List(ctx)
	require.NoError(t, err)
	assert.Empty(t, workers, "a refused worker is not registered")
	var leased int
	require.NoError(t, env.Pool.QueryRow(ctx, `SELECT count(*) FROM check_schedules WHERE leased_by IS NOT NULL`).Scan(&leased))
	assert.Zero(t, leased, "a refused claim leases nothing")

	// No location: the token's.
	ack, err := wP.WorkerProtocol.Heartbeat(ctx, client.WorkerHello{Name: "probe-1"})
	require.NoError(t, err)
	workers, err = owner.Workers.List(ctx)
	require.NoError(t, err)
	require.Len(t, workers, 1)
	assert.Equal(t, ack.WorkerId, workers[0].Id)
	assert.Equal(t, "Paris DC", workers[0].Location, "registered in the token's location")
	_, err = wP.WorkerProtocol.Heartbeat(ctx, client.WorkerHello{Name: "probe-1", Location: ptr("Paris DC")})
	require.NoError(t, err, "naming the token's own location is fine")

	got, err := wP.WorkerProtocol.Claim(ctx, client.WorkerClaimRequest{Name: "probe-1", MaxChecks: 1000})
	require.NoError(t, err)
	claimed := map[uuid.UUID]client.ClaimedCheck{}
	for _, ck := range got.Checks {
		claimed[ck.CheckId] = ck
	}
	require.Contains(t, claimed, checkParis, "the token's location's check")
	assert.Equal(t, "Paris DC", claimed[checkParis].Location)
	require.Contains(t, claimed, checkAny, "a check any worker may run")
	assert.Empty(t, claimed[checkAny].Location)
	assert.NotContains(t, claimed, checkLondon, "never another location's check (nor its config)")
	assert.Len(t, claimed, 2)

	// Results: the token's location, whether the worker names none or another.
	now := time.Now().UTC().Truncate(time.Millisecond)
	for _, b := range []client.WorkerResultBatch{
		{Name: "probe-1", Results: []client.WorkerResult{{WorkspaceId: env.Workspace, CheckId: checkParis, RunId: claimed[checkParis].RunId, Time: now, Status: 0}}},
		{Name: "probe-1", Location: ptr("London"), Results: []client.WorkerResult{{WorkspaceId: env.Workspace, CheckId: checkAny, RunId: claimed[checkAny].RunId, Time: now, Status: 1}}},
	} {
		res, err := wP.WorkerProtocol.SendResults(ctx, uuid.NewString(), b)
		require.NoError(t, err)
		assert.EqualValues(t, 1, res.Accepted)
	}
	for _, check := range []uuid.UUID{checkParis, checkAny} {
		r, err := cA.GetCheckLastResultWithResponse(ctx, check, &client.GetCheckLastResultParams{Location: ptr("Paris DC")})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.StatusCode(), string(r.Body))
		require.NotNil(t, r.JSON200.Location)
		assert.Equal(t, "Paris DC", *r.JSON200.Location)
		assert.Equal(t, ack.WorkerId, *r.JSON200.WorkerId)
		elsewhere, err := cA.GetCheckLastResultWithResponse(ctx, check, &client.GetCheckLastResultParams{Location: ptr("London")})
		require.NoError(t, err)
		assert.Equal(t, http.StatusNotFound, elsewhere.StatusCode(), "nothing filed under the location the worker claimed")
	}
}

// TestPinnedWorkerTokenBadLocation: a location that is no LocationName is refused with a 400
// naming `location`, and no token is made.
func TestPinnedWorkerTokenBadLocation(t *testing.T) {
	env := servertest.Start(t)
	ctx := context.Background()
	owner := sdk(t, env, env.OwnerToken)
	for _, bad := range []string{" Paris DC", "Paris\tDC", strings.Repeat("p", 65)} {
		_, err := owner.WorkerTokens.Create(ctx, client.WorkerTokenCreate{Name: "bad", Location: &bad})
		var apiErr *client.APIError
		require.ErrorAs(t, err, &apiErr, "%q", bad)
		assert.Equal(t, http.StatusBadRequest, apiErr.StatusCode, "%q", bad)
		require.NotEmpty(t, apiErr.Errors, "%q", bad)
		assert.Equal(t, "location", apiErr.Errors[0].Field, "%q", bad)
	}
	body, err := json.Marshal(map[string]string{"name": "bad", "location": " Paris DC"})
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, send(t, http.MethodPost, env.URL+"/api/v2/worker-tokens", env.OwnerToken, body),
		"problem+json (send checks the media type)")
	list, err := owner.WorkerTokens.List(ctx)
	require.NoError(t, err)
	assert.Zero(t, list.Count, "no token made")
}
