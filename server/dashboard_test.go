package server_test

import (
	"bufio"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/secuaas/secumon/server/domain/access"

	"github.com/secuaas/secumon/server/platform/database"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/probes/runner/store"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

func TestStatusAndDashboardCounters(t *testing.T) {
	env := servertest.Start(t)
	ctx := context.Background()
	c := env.Client(t, env.OwnerToken)
	env.NewWorkspace(t, "other")
	createHost(t, env.Client(t, env.Token(t, "other", access.Owner).Token), "not ours")
	require.NoError(t, database.EnsurePartitions(ctx, env.Pool, time.Now()))

	// Hosts: 3, one inactive. Checks: 4, one disabled; of the enabled ones one is OK, one
	// CRITICAL and one never ran; the disabled one is CRITICAL but does not count as failing.
	h1, h2 := createHost(t, c, "h1"), createHost(t, c, "h2")
	h3, err := c.CreateHostWithResponse(ctx, nil, client.HostCreate{Name: "h3", Hostname: "127.0.0.3", IsActive: ptr(false)})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, h3.StatusCode())
	check := func(host uuid.UUID, name string, enabled bool) client.Check {
		r, err := c.CreateCheckWithResponse(ctx, nil, client.NewCheckCreate(client.TcpCheckCreate{HostId: host, Name: name,
			Config: client.TcpConfig{Port: 80}, Enabled: &enabled}))
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, r.StatusCode(), string(r.Body))
		return *r.JSON201
	}
	ok, failing, _, disabled := check(h1.Id, "ok", true), check(h1.Id, "failing", true), check(h2.Id, "never-ran", true), check(h2.Id, "disabled", false)
	now := time.Now().UTC()
	rec := func(ck client.Check, status int16) store.Record {
		return store.Record{WorkspaceID: env.Workspace, CheckID: ck.Id, HostID: ck.HostId, Time: now, Status: status}
	}
	require.NoError(t, store.Write(ctx, env.Pool, []store.Record{rec(ok, 0), rec(failing, 2), rec(disabled, 2)}))
	require.NoError(t, store.NewDigester(env.Pool, slog.New(slog.DiscardHandler)).DigestAll(ctx))

	// Incidents: three, one resolved; a storm; workers: one alive, one silent, one retired.
	var incidents []client.Incident
	for _, title := range []string{"first", "second", "third"} {
		r, err := c.CreateIncidentWithResponse(ctx, nil, client.IncidentCreate{Title: title})
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, r.StatusCode())
		incidents = append(incidents, *r.JSON201)
		time.Sleep(2 * time.Millisecond) // distinct creation times
	}
	res, err := c.ResolveIncidentWithResponse(ctx, incidents[0].Id)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode())
	_, err = env.Queries.StartStorm(ctx, db.StartStormParams{WorkspaceID: env.Workspace, ID: uuid.New()})
	require.NoError(t, err)
	for _, name := range []string{"alive", "silent", "retired"} {
		w, err := env.Queries.RegisterWorker(ctx, db.RegisterWorkerParams{WorkspaceID: env.Workspace, ID: uuid.New(), Name: name})
		require.NoError(t, err)
		switch name {
		case "silent":
			_, err = env.Pool.Exec(ctx, "UPDATE workers SET last_heartbeat = now() - interval '10 minutes' WHERE id = $1", w.ID)
		case "retired":
			_, err = env.Queries.RetireWorker(ctx, db.RetireWorkerParams{WorkspaceID: env.Workspace, ID: w.ID})
		}
		require.NoError(t, err)
	}

	st, err := c.GetStatusWithResponse(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, st.StatusCode(), string(st.Body))
	s := st.JSON200
	assert.Equal(t, 3, s.Hosts.Total)
	assert.Equal(t, 2, s.Hosts.Active)
	assert.Equal(t, 4, s.Checks.Total)
	assert.Equal(t, 3, s.Checks.Enabled)
	assert.Equal(t, 1, s.Checks.Failing)
	assert.Equal(t, 33.3, s.Checks.FailingPct)
	assert.Equal(t, 2, s.ActiveIncidents)
	assert.Equal(t, 1, s.ActiveStorms)
	assert.Equal(t, 1, s.Workers)

	d, err := c.GetDashboardWithResponse(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, d.StatusCode(), string(d.Body))
	assert.Equal(t, 3, d.JSON200.HostsTotal)
	assert.Equal(t, 3, d.JSON200.ChecksEnabled)
	assert.Equal(t, 2, d.JSON200.IncidentsOpen)
	require.Len(t, d.JSON200.RecentIncidents, 3)
	assert.Equal(t, []string{"third", "second", "first"},
		[]string{d.JSON200.RecentIncidents[0].Title, d.JSON200.RecentIncidents[1].Title, d.JSON200.RecentIncidents[2].Title}, "newest first")
	assert.Equal(t, client.IncidentStatusResolved, d.JSON200.RecentIncidents[2].Status)

	// A fresh workspace counts nothing.
	empty := env.Client(t, env.Token(t, "other", access.Viewer).Token)
	st, err = empty.GetStatusWithResponse(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, st.JSON200.Hosts.Total)
	assert.Equal(t, 0.0, st.JSON200.Checks.FailingPct)
}

// nextEvent reads the stream's next event, failing after wait.
func nextEvent(t *testing.T, events <-chan client.Event, wait time.Duration) client.Event {
	t.Helper()
	select {
	case ev, ok := <-events:
		require.True(t, ok, "the stream ended")
		return ev
	case <-time.After(wait):
		t.Fatalf("no event within %v", wait)
		return client.Event{}
	}
}

func TestEventStream(t *testing.T) {
	env := servertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := env.Client(t, env.OwnerToken)
	sdk, err := client.New(env.URL, client.WithToken(env.Token(t, "default", access.Viewer).Token))
	require.NoError(t, err)

	// The SDK's reader, fed from a goroutine so each wait can be bounded.
	events := make(chan client.Event)
	streamCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		defer close(events)
		for ev, err := range sdk.Events.Stream(streamCtx) {
			if err != nil {
				return
			}
			select {
			case events <- ev:
			case <-streamCtx.Done():
				return
			}
		}
	}()

	first := nextEvent(t, events, 5*time.Second)
	assert.Equal(t, "summary", first.Type)
	assert.NotEmpty(t, first.ID)
	var sum client.DashboardSummary
	require.NoError(t, first.Decode(&sum))
	assert.Equal(t, 0, sum.IncidentsOpen)
	assert.Equal(t, 0, sum.HostsTotal)

	// An incident opened through the API reaches the stream within a second.
	start := time.Now()
	inc, err := c.CreateIncidentWithResponse(ctx, nil, client.IncidentCreate{Title: "Live one"})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, inc.StatusCode())
	ev := nextEvent(t, events, time.Second)
	t.Logf("incident → event in %v", time.Since(start).Round(time.Millisecond))
	require.NoError(t, ev.Decode(&sum))
	assert.Equal(t, 1, sum.IncidentsOpen)
	require.NotEmpty(t, sum.RecentIncidents)
	assert.Equal(t, "Live one", sum.RecentIncidents[0].Title)
	assert.NotEqual(t, first.ID, ev.ID)

	// A host added (no incident code involved: the hosts table's trigger) shows too.
	createHost(t, c, "new-host")
	ev = nextEvent(t, events, time.Second)
	require.NoError(t, ev.Decode(&sum))
	assert.Equal(t, 1, sum.HostsTotal)

	// Another workspace's changes are not this stream's.
	env.NewWorkspace(t, "other")
	createHost(t, env.Client(t, env.Token(t, "other", access.Owner).Token), "theirs")
	select {
	case ev := <-events:
		t.Fatalf("an event for another workspace's change: %+v", ev)
	case <-time.After(500 * time.Millisecond):
	}
}

func TestEventStreamWireFormat(t *testing.T) {
	env := servertest.Start(t)
	req, err := http.NewRequest(http.MethodGet, env.URL+"/api/v2/events", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err = http.NewRequestWithContext(ctx, http.MethodGet, env.URL+"/api/v2/events", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+env.OwnerToken)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	lines := bufio.NewScanner(resp.Body)
	var got []string
	for len(got) < 6 && lines.Scan() {
		got = append(got, lines.Text())
	}
	require.Len(t, got, 6)
	assert.Equal(t, "retry: 3000", got[0])
	assert.Equal(t, "", got[1])
	assert.Equal(t, "event: summary", got[2])
	assert.Regexp(t, `^id: [0-9a-f]{16}$`, got[3])
	assert.True(t, strings.HasPrefix(got[4], `data: {"checks_enabled":0,"hosts_total":0,"incidents_open":0,"recent_incidents":[]}`), got[4])
	assert.Equal(t, "", got[5])
}
