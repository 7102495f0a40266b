package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/probes/runner/locations"
	"github.com/secuaas/secumon/server"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

// locationsOf reads the check's schedules' locations, sorted (” for any worker).
func locationsOf(t *testing.T, env *servertest.Env, check uuid.UUID) []string {
	t.Helper()
	rows, err := env.Pool.Query(context.Background(), "SELECT location FROM check_schedules WHERE check_id = $1 ORDER BY location", check)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var l string
		require.NoError(t, rows.Scan(&l))
		out = append(out, l)
	}
	require.NoError(t, rows.Err())
	return out
}

// requireProblemField asserts a problem+json answer of status naming field.
func requireProblemField(t *testing.T, status int, body []byte, wantStatus int, field string) {
	t.Helper()
	require.Equal(t, wantStatus, status, string(body))
	assert.Contains(t, string(body), `"field":"`+field+`"`, string(body))
}

// Locations and confirm_locations through the API: stored and shown, N above M and locations
// on a heartbeat check refused with 400 naming the field (nothing created or changed), and an
// update of the locations adjusting the check's schedules in the same transaction.
func TestLocationsCreateUpdate(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()
	h, err := c.CreateHostWithResponse(ctx, nil, client.HostCreate{Name: "target", Hostname: "127.0.0.1"})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, h.StatusCode(), string(h.Body))
	host := h.JSON201.Id
	httpCheck := func(name string, locs []string, confirm *int) client.CheckCreate {
		b := client.HttpCheckCreate{HostId: host, Name: name, Config: client.HttpConfig{URL: "http://127.0.0.1:1/"}, ConfirmLocations: confirm, Enabled: ptr(false)}
		if locs != nil {
			b.Locations = &locs
		}
		return client.NewCheckCreate(b)
	}
	count := func() int {
		var n int
		require.NoError(t, env.Pool.QueryRow(ctx, "SELECT count(*) FROM checks").Scan(&n))
		return n
	}

	// Refused: N above M, N above 1 for a check any worker runs, locations on a heartbeat check,
	// a location name a worker could not have.
	r, err := c.CreateCheckWithResponse(ctx, nil, httpCheck("n>m", []string{"eu-west", "us-east"}, ptr(3)))
	require.NoError(t, err)
	requireProblemField(t, r.StatusCode(), r.Body, http.StatusBadRequest, "confirm_locations")
	r, err = c.CreateCheckWithResponse(ctx, nil, httpCheck("any", nil, ptr(2)))
	require.NoError(t, err)
	requireProblemField(t, r.StatusCode(), r.Body, http.StatusBadRequest, "confirm_locations")
	r, err = c.CreateCheckWithResponse(ctx, nil, client.NewCheckCreate(client.HeartbeatCheckCreate{HostId: host, Name: "hb",
		Config: client.HeartbeatConfig{PeriodSec: ptr(60)}, Locations: &[]string{"eu-west"}}))
	require.NoError(t, err)
	requireProblemField(t, r.StatusCode(), r.Body, http.StatusBadRequest, "locations")
	r, err = c.CreateCheckWithResponse(ctx, nil, httpCheck("bad name", []string{" eu-west"}, nil))
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, r.StatusCode(), string(r.Body))
	assert.Contains(t, string(r.Body), "locations", string(r.Body))
	r, err = c.CreateCheckWithResponse(ctx, nil, httpCheck("dup", []string{"eu-west", "eu-west"}, nil))
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, r.StatusCode(), string(r.Body))
	assert.Zero(t, count(), "nothing created")

	// Stored and shown; one schedule per location.
	r, err = c.CreateCheckWithResponse(ctx, nil, httpCheck("pinned", []string{"eu-west", "us-east", "ap-south"}, ptr(2)))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), string(r.Body))
	ck := *r.JSON201
	assert.Equal(t, []string{"eu-west", "us-east", "ap-south"}, *ck.Locations)
	assert.Equal(t, 2, *ck.ConfirmLocations)
	assert.Equal(t, []string{"ap-south", "eu-west", "us-east"}, locationsOf(t, env, ck.Id))
	// A check without locations shows an empty list and 1, with one schedule for any worker.
	r, err = c.CreateCheckWithResponse(ctx, nil, httpCheck("anywhere", nil, nil))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), string(r.Body))
	assert.Equal(t, []string{}, *r.JSON201.Locations)
	assert.Equal(t, 1, *r.JSON201.ConfirmLocations)
	assert.Equal(t, []string{""}, locationsOf(t, env, r.JSON201.Id))

	update := func(body client.CheckUpdate) *client.UpdateCheckResponse {
		u, err := c.UpdateCheckWithResponse(ctx, ck.Id, nil, body)
		require.NoError(t, err)
		return u
	}
	// A change of locations: the removed location's schedule goes, the new one comes, the kept
	// one keeps its state.
	_, err = env.Pool.Exec(ctx, "UPDATE check_schedules SET fail_streak = 7 WHERE check_id = $1 AND location = 'eu-west'", ck.Id)
	require.NoError(t, err)
	u := update(client.CheckUpdate{Locations: &[]string{"eu-west", "sa-east"}})
	require.Equal(t, http.StatusOK, u.StatusCode(), string(u.Body))
	assert.Equal(t, []string{"eu-west", "sa-east"}, *u.JSON200.Locations)
	assert.Equal(t, []string{"eu-west", "sa-east"}, locationsOf(t, env, ck.Id))
	var streak int
	require.NoError(t, env.Pool.QueryRow(ctx, "SELECT fail_streak FROM check_schedules WHERE check_id = $1 AND location = 'eu-west'", ck.Id).Scan(&streak))
	assert.Equal(t, 7, streak, "a kept location keeps its state")

	// Refused updates change nothing: N above M (alone, or by dropping locations), and
	// "any worker" with N = 2.
	u = update(client.CheckUpdate{ConfirmLocations: ptr(3)})
	requireProblemField(t, u.StatusCode(), u.Body, http.StatusBadRequest, "confirm_locations")
	u = update(client.CheckUpdate{Locations: &[]string{"eu-west"}, Name: ptr("renamed")})
	requireProblemField(t, u.StatusCode(), u.Body, http.StatusBadRequest, "confirm_locations")
	u = update(client.CheckUpdate{Locations: &[]string{}})
	requireProblemField(t, u.StatusCode(), u.Body, http.StatusBadRequest, "confirm_locations")
	g, err := c.GetCheckWithResponse(ctx, ck.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, "pinned", g.JSON200.Name)
	assert.Equal(t, []string{"eu-west", "sa-east"}, *g.JSON200.Locations)
	assert.Equal(t, 2, *g.JSON200.ConfirmLocations)
	assert.Equal(t, []string{"eu-west", "sa-east"}, locationsOf(t, env, ck.Id))

	// Switching to "any worker" (and N back to 1) leaves one '' schedule; and back again.
	u = update(client.CheckUpdate{Locations: &[]string{}, ConfirmLocations: ptr(1)})
	require.Equal(t, http.StatusOK, u.StatusCode(), string(u.Body))
	assert.Equal(t, []string{""}, locationsOf(t, env, ck.Id))
	u = update(client.CheckUpdate{Locations: &[]string{"us-east"}})
	require.Equal(t, http.StatusOK, u.StatusCode(), string(u.Body))
	assert.Equal(t, []string{"us-east"}, locationsOf(t, env, ck.Id))
	// An update that does not name locations keeps the schedules as they are.
	u = update(client.CheckUpdate{IntervalSec: ptr(30)})
	require.Equal(t, http.StatusOK, u.StatusCode(), string(u.Body))
	assert.Equal(t, []string{"us-east"}, locationsOf(t, env, ck.Id))
}

// A location that a check needs and no live worker serves is reported: `serve`'s reporter
// writes one UNKNOWN result per interval from that location (not a burst, and none for a
// location a live worker serves), the results read with the location filter show it, and
// GET /workers/locations flags the location.
func TestLocationWithoutWorkerIsReported(t *testing.T) {
	env := servertest.Start(t)
	servertest.Run(t, server.Deps{Pool: env.Pool, Serve: true,
		LocationReports: locations.Options{MinGrace: time.Second, Every: 100 * time.Millisecond}})
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()
	h, err := c.CreateHostWithResponse(ctx, nil, client.HostCreate{Name: "target", Hostname: "127.0.0.1"})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, h.StatusCode(), string(h.Body))
	// A live worker in "served": registered with a fresh heartbeat, though not running (its
	// schedules just stay due).
	_, err = env.Pool.Exec(ctx, "INSERT INTO workers (workspace_id, id, name, location) VALUES ($1, $2, 'w-served', 'served')", env.Workspace, uuid.New())
	require.NoError(t, err)
	r, err := c.CreateCheckWithResponse(ctx, nil, client.NewCheckCreate(client.HttpCheckCreate{HostId: h.JSON201.Id, Name: "pinned",
		Config: client.HttpConfig{URL: "http://127.0.0.1:1/"}, IntervalSec: ptr(10), Locations: &[]string{"nowhere", "served"}}))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), string(r.Body))
	ck := *r.JSON201
	// Both schedules are long overdue.
	_, err = env.Pool.Exec(ctx, "UPDATE check_schedules SET next_run_at = now() - interval '1 hour' WHERE check_id = $1", ck.Id)
	require.NoError(t, err)

	reports := func(location string) []client.MetricPoint {
		m, err := c.GetCheckMetricsWithResponse(ctx, &client.GetCheckMetricsParams{CheckId: ck.Id, Location: &location})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, m.StatusCode(), string(m.Body))
		return m.JSON200.Results
	}
	eventually(t, 10*time.Second, func() bool { return len(reports("nowhere")) == 1 }, "a report for the location without a worker")
	start := time.Now()
	last, err := c.GetCheckLastResultWithResponse(ctx, ck.Id, &client.GetCheckLastResultParams{Location: ptr("nowhere")})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, last.StatusCode(), string(last.Body))
	assert.Equal(t, client.CheckStatus(3), last.JSON200.Status)
	assert.Equal(t, "no live worker in location nowhere", last.JSON200.Output)
	assert.Equal(t, "nowhere", *last.JSON200.Location)
	assert.Nil(t, last.JSON200.WorkerId)

	// GET /workers/locations: the location without a worker is flagged, the served one is not.
	l, err := c.ListWorkerLocationsWithResponse(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, l.StatusCode(), string(l.Body))
	byName := map[string]client.WorkerLocation{}
	for _, x := range *l.JSON200 {
		byName[x.Location] = x
	}
	assert.Equal(t, client.WorkerLocation{Location: "nowhere", LiveWorkers: 0, Checks: 1, Status: client.WorkerLocationStatusNoWorker}, byName["nowhere"])
	assert.Equal(t, client.WorkerLocation{Location: "served", LiveWorkers: 1, Checks: 1, Status: client.WorkerLocationStatusOk}, byName["served"])

	// One report per interval: none more within the interval, the next one after it; the
	// served location gets none.
	time.Sleep(5 * time.Second)
	assert.Len(t, reports("nowhere"), 1, "no second report within the interval")
	eventually(t, 12*time.Second, func() bool { return len(reports("nowhere")) == 2 }, "the next interval's report")
	assert.GreaterOrEqual(t, time.Since(start), 8*time.Second, "about one interval apart")
	assert.Empty(t, reports("served"))
}
