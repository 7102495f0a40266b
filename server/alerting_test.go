package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/secuaas/secumon/server/platform/jobs"

	"github.com/secuaas/secumon/server/platform/database"

	"github.com/google/uuid"
	openapi_types "github.com/oapi-codegen/runtime/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/probes/runner/store"
	"github.com/secuaas/secumon/server/domain/access"
	"github.com/secuaas/secumon/server/domain/alerting"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

// alertFixture runs the API and feeds results through the real writer and digester with the
// evaluator hooked in, as a worker does.
type alertFixture struct {
	env      *servertest.Env
	c        *client.ClientWithResponses
	digester *store.Digester
	al       *alerting.Alerting
}

func newAlertFixture(t *testing.T, cfg alerting.Config) alertFixture {
	t.Helper()
	env := servertest.Start(t)
	inserter, err := jobs.New(env.Pool, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	al := alerting.New(cfg, inserter, slog.New(slog.DiscardHandler))
	require.NoError(t, database.EnsurePartitions(context.Background(), env.Pool, time.Now()))
	return alertFixture{env: env, c: env.Client(t, env.OwnerToken), al: al,
		digester: store.NewDigester(env.Pool, slog.New(slog.DiscardHandler), al.DigestHook)}
}

func (f alertFixture) check(t *testing.T, host client.Host, name string, typ client.CheckType) client.Check {
	t.Helper()
	// Disabled: the results come from the test, not from a worker.
	var body client.CheckCreate
	switch typ {
	case client.CheckTypeTcp:
		body = client.NewCheckCreate(client.TcpCheckCreate{HostId: host.Id, Name: name,
			Config: client.TcpConfig{Port: 443}, FailureThreshold: ptr(2), Enabled: ptr(false)})
	case client.CheckTypePing:
		body = client.NewCheckCreate(client.PingCheckCreate{HostId: host.Id, Name: name,
			Config: &client.PingConfig{}, FailureThreshold: ptr(2), Enabled: ptr(false)})
	default:
		t.Fatalf("no fixture for %s checks", typ)
	}
	r, err := f.c.CreateCheckWithResponse(context.Background(), nil, body)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), string(r.Body))
	return *r.JSON201
}

// run records one result per check at status (0 OK, 2 CRITICAL) and digests it.
func (f alertFixture) run(t *testing.T, status int16, checks ...client.Check) {
	t.Helper()
	ctx := context.Background()
	var recs []store.Record
	for _, ck := range checks {
		recs = append(recs, store.Record{WorkspaceID: f.env.Workspace, CheckID: ck.Id, HostID: ck.HostId, Time: time.Now().UTC(),
			Status: status, Output: "connection refused", ErrorMsg: map[bool]string{true: "connection refused"}[status != 0]})
	}
	require.NoError(t, store.Write(ctx, f.env.Pool, recs))
	require.NoError(t, f.digester.DigestAll(ctx))
	time.Sleep(2 * time.Millisecond) // distinct result times
}

func (f alertFixture) incidentsOf(t *testing.T, ck client.Check) []client.Incident {
	t.Helper()
	all := client.ListIncidentsParamsStatusAll
	r, err := f.c.ListIncidentsWithResponse(context.Background(), &client.ListIncidentsParams{Status: &all, HostId: &ck.HostId})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.StatusCode(), string(r.Body))
	var out []client.Incident
	for _, i := range r.JSON200.Incidents {
		if i.CheckId != nil && *i.CheckId == ck.Id {
			out = append(out, i)
		}
	}
	return out
}

func (f alertFixture) timeline(t *testing.T, id uuid.UUID) []string {
	t.Helper()
	r, err := f.c.GetIncidentWithResponse(context.Background(), id, nil)
	require.NoError(t, err)
	var actions []string
	for _, e := range *r.JSON200.Timeline {
		actions = append(actions, string(e.Action))
	}
	return actions
}

func (f alertFixture) deliveries(t *testing.T, incident *uuid.UUID) (n int) {
	t.Helper()
	q := "SELECT count(*) FROM notification_deliveries WHERE workspace_id = $1 AND ($2::uuid IS NULL OR incident_id = $2)"
	require.NoError(t, f.env.Pool.QueryRow(context.Background(), q, f.env.Workspace, incident).Scan(&n))
	return n
}

func (f alertFixture) policy(t *testing.T, name string, cond client.AlertConditions, ch client.AlertChannels, cooldown int) client.AlertPolicy {
	t.Helper()
	r, err := f.c.CreateAlertPolicyWithResponse(context.Background(), nil, client.AlertPolicyCreate{Name: name, Conditions: &cond, Channels: &ch, CooldownSec: &cooldown})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), string(r.Body))
	return *r.JSON201
}

// A check failing its threshold opens one incident, notifies the matching policy once within
// its cooldown, resolves on recovery, and a quick relapse reopens the same incident; after
// flapping too often it stays open.
func TestAutomaticIncidents(t *testing.T) {
	f := newAlertFixture(t, alerting.Config{MaxReopens: 2})
	host := createHost(t, f.c, "web-prod-01")
	ck := f.check(t, host, "https", client.CheckTypeTcp)
	crit := []client.Severity{client.SeverityCritical}
	f.policy(t, "oncall-web", client.AlertConditions{Severity: &crit, CheckTypes: &[]client.CheckType{client.CheckTypeTcp}},
		client.AlertChannels{Email: &[]openapi_types.Email{"ops@example.com"}, Webhook: &[]client.WebhookChannel{{Url: "http://127.0.0.1:9/hook", Secret: ptr("0123456789abcdef")}}}, 3600)
	f.policy(t, "only-db", client.AlertConditions{HostTags: &client.Tags{"role": "db"}}, client.AlertChannels{Email: &[]openapi_types.Email{"dba@example.com"}}, 0)

	f.run(t, 2, ck)
	assert.Empty(t, f.incidentsOf(t, ck), "one failure is below the threshold")
	f.run(t, 2, ck)
	incs := f.incidentsOf(t, ck)
	require.Len(t, incs, 1)
	inc := incs[0]
	assert.Equal(t, client.SeverityCritical, inc.Severity)
	assert.Equal(t, "auto", inc.Tags["source"])
	assert.Equal(t, []string{"opened", "notified"}, f.timeline(t, inc.Id))
	assert.Equal(t, 2, f.deliveries(t, &inc.Id), "email and webhook of the matching policy only")

	f.run(t, 2, ck)
	assert.Len(t, f.incidentsOf(t, ck), 1, "never a second incident while one is open")

	f.run(t, 0, ck)
	got := f.incidentsOf(t, ck)
	require.Len(t, got, 1)
	assert.Equal(t, client.IncidentStatusResolved, got[0].Status)
	assert.Equal(t, 4, f.deliveries(t, &inc.Id), "the resolution goes where the opening went")

	// Relapse: the same incident reopens; the policy is still cooling down, so no new send.
	f.run(t, 2, ck)
	f.run(t, 2, ck)
	got = f.incidentsOf(t, ck)
	require.Len(t, got, 1)
	assert.Equal(t, inc.Id, got[0].Id)
	assert.Equal(t, client.IncidentStatusInvestigating, got[0].Status)
	assert.Equal(t, 4, f.deliveries(t, &inc.Id))

	// Flapping: after MaxReopens reopenings it no longer resolves by itself.
	f.run(t, 0, ck)
	f.run(t, 2, ck)
	f.run(t, 2, ck)
	f.run(t, 0, ck)
	got = f.incidentsOf(t, ck)
	require.Len(t, got, 1)
	assert.Equal(t, client.IncidentStatusInvestigating, got[0].Status, "a flapping check's incident stays open")
	assert.Contains(t, f.timeline(t, inc.Id), "reopened")
}

// While a maintenance window covers the host, an incident is recorded but nobody is told.
func TestMaintenanceSuppressesNotifications(t *testing.T) {
	f := newAlertFixture(t, alerting.Config{})
	host := createHost(t, f.c, "db-01")
	ck := f.check(t, host, "pg", client.CheckTypeTcp)
	f.policy(t, "all", client.AlertConditions{}, client.AlertChannels{Email: &[]openapi_types.Email{"ops@example.com"}}, 0)
	ctx := context.Background()
	now := time.Now()
	w, err := f.c.CreateMaintenanceWindowWithResponse(ctx, nil, client.MaintenanceWindowCreate{Title: "upgrade",
		StartTime: now.Add(-time.Minute), EndTime: now.Add(time.Hour), AffectedHosts: &[]uuid.UUID{host.Id}})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, w.StatusCode(), string(w.Body))
	assert.True(t, w.JSON201.SuppressAlerts)
	assert.True(t, w.JSON201.NotifySubscribers)

	f.run(t, 2, ck)
	f.run(t, 2, ck)
	incs := f.incidentsOf(t, ck)
	require.Len(t, incs, 1)
	assert.Equal(t, []string{"opened", "suppressed"}, f.timeline(t, incs[0].Id))
	assert.Zero(t, f.deliveries(t, nil))

	// The ticker activates the window by time; ending it lets the next incident through.
	require.NoError(t, f.al.Tick(ctx, f.env.Pool))
	got, err := f.c.GetMaintenanceWindowWithResponse(ctx, w.JSON201.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, client.MaintenanceStatusActive, got.JSON200.Status)
	end, err := f.c.EndMaintenanceWindowWithResponse(ctx, w.JSON201.Id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, end.StatusCode(), string(end.Body))
	f.run(t, 0, ck)
	f.run(t, 2, ck)
	f.run(t, 2, ck)
	assert.Equal(t, 1, f.deliveries(t, nil))
}

func TestMaintenanceTransitions(t *testing.T) {
	env := servertest.Start(t)
	env.NewWorkspace(t, "other")
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()
	foreign := createHost(t, env.Client(t, env.Token(t, "other", "owner").Token), "theirs")
	start := time.Now().Add(time.Hour)
	create := func(body client.MaintenanceWindowCreate) *client.CreateMaintenanceWindowResponse {
		r, err := c.CreateMaintenanceWindowWithResponse(ctx, nil, body)
		require.NoError(t, err)
		return r
	}
	bad := create(client.MaintenanceWindowCreate{Title: "x", StartTime: start, EndTime: start.Add(-time.Minute)})
	assert.Equal(t, http.StatusBadRequest, bad.StatusCode())
	assert.Contains(t, string(bad.Body), `"end_time"`)
	bad = create(client.MaintenanceWindowCreate{Title: "x", StartTime: start, EndTime: start.Add(time.Hour), AffectedHosts: &[]uuid.UUID{foreign.Id}})
	assert.Equal(t, http.StatusBadRequest, bad.StatusCode())
	assert.Contains(t, string(bad.Body), `"affected_hosts.0"`)

	w := create(client.MaintenanceWindowCreate{Title: "Mise à jour", StartTime: start, EndTime: start.Add(time.Hour)})
	require.Equal(t, http.StatusCreated, w.StatusCode(), string(w.Body))
	id := w.JSON201.Id
	assert.Equal(t, client.MaintenanceStatusScheduled, w.JSON201.Status)

	// Partial update keeps the rest.
	newEnd := start.Add(90 * time.Minute)
	up, err := c.UpdateMaintenanceWindowWithResponse(ctx, id, nil, client.MaintenanceWindowUpdate{EndTime: &newEnd})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, up.StatusCode(), string(up.Body))
	assert.Equal(t, "Mise à jour", up.JSON200.Title)
	assert.WithinDuration(t, newEnd, up.JSON200.EndTime, time.Second)

	ended, err := c.EndMaintenanceWindowWithResponse(ctx, id, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusConflict, ended.StatusCode(), "a scheduled window cannot end")
	started, err := c.StartMaintenanceWindowWithResponse(ctx, id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, started.StatusCode(), string(started.Body))
	assert.Equal(t, client.MaintenanceStatusActive, started.JSON200.Status)
	again, err := c.StartMaintenanceWindowWithResponse(ctx, id, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusConflict, again.StatusCode())
	ended, err = c.EndMaintenanceWindowWithResponse(ctx, id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, ended.StatusCode())
	assert.Equal(t, client.MaintenanceStatusCompleted, ended.JSON200.Status)
	cancel, err := c.CancelMaintenanceWindowWithResponse(ctx, id, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusConflict, cancel.StatusCode())

	other := create(client.MaintenanceWindowCreate{Title: "autre", StartTime: start, EndTime: start.Add(time.Hour)})
	cancel, err = c.CancelMaintenanceWindowWithResponse(ctx, other.JSON201.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNoContent, cancel.StatusCode())

	scheduled := client.MaintenanceStatusScheduled
	list, err := c.ListMaintenanceWindowsWithResponse(ctx, &client.ListMaintenanceWindowsParams{Status: &scheduled})
	require.NoError(t, err)
	assert.Equal(t, 0, list.JSON200.Count)
	list, err = c.ListMaintenanceWindowsWithResponse(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, 2, list.JSON200.Count)
}

// Many checks failing on many hosts at once form one storm: the incidents join it, the
// individual notifications give way to one storm notification, and GET /storms shows it
// with a probable cause.
func TestStorm(t *testing.T) {
	f := newAlertFixture(t, alerting.Config{Storm: alerting.StormConfig{MinAlerts: 3, MinHosts: 3, Window: time.Minute, Quiet: time.Hour}})
	f.policy(t, "all", client.AlertConditions{}, client.AlertChannels{Email: &[]openapi_types.Email{"ops@example.com"}}, 0)
	var checks []client.Check
	for _, name := range []string{"a", "b", "c", "d"} {
		checks = append(checks, f.check(t, createHost(t, f.c, "host-"+name), "ping-"+name, client.CheckTypePing))
	}
	f.run(t, 2, checks...)
	f.run(t, 2, checks...)

	active := true
	r, err := f.c.ListStormsWithResponse(context.Background(), &client.ListStormsParams{Active: &active})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.StatusCode(), string(r.Body))
	require.Equal(t, 1, r.JSON200.Count)
	s := r.JSON200.Storms[0]
	assert.Equal(t, 4, s.TotalAlerts)
	assert.Equal(t, 4, s.AffectedHosts)
	assert.Equal(t, client.StormRootCauseType("network"), s.RootCauseType)
	assert.InDelta(t, 1.0, s.Confidence, 0.001)
	for _, ck := range checks {
		incs := f.incidentsOf(t, ck)
		require.Len(t, incs, 1)
		require.NotNil(t, incs[0].StormId)
		assert.Equal(t, s.Id, *incs[0].StormId)
		assert.Contains(t, f.timeline(t, incs[0].Id), "suppressed")
	}
	assert.Equal(t, 1, f.deliveries(t, nil), "one storm notification instead of four")

	// After its quiet period the storm ends by itself.
	_, err = f.env.Pool.Exec(context.Background(), "UPDATE storms SET last_alert_at = now() - interval '2 hours'")
	require.NoError(t, err)
	require.NoError(t, f.al.Tick(context.Background(), f.env.Pool))
	r, err = f.c.ListStormsWithResponse(context.Background(), &client.ListStormsParams{Active: &active})
	require.NoError(t, err)
	assert.Equal(t, 0, r.JSON200.Count)
	all, err := f.c.ListStormsWithResponse(context.Background(), nil)
	require.NoError(t, err)
	require.Equal(t, 1, all.JSON200.Count)
	assert.Equal(t, client.StormStatus("resolved"), all.JSON200.Storms[0].Status)
	assert.NotNil(t, all.JSON200.Storms[0].EndedAt)
}

// Alert policies: defaults, masked webhook secrets that survive a round trip, partial
// updates, and targets that could never be delivered refused with the field named.
func TestAlertPolicies(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()
	p, err := c.CreateAlertPolicyWithResponse(ctx, nil, client.AlertPolicyCreate{Name: "Critiques → astreinte",
		Channels: &client.AlertChannels{Webhook: &[]client.WebhookChannel{{Url: "http://127.0.0.1:9/hook", Secret: ptr("0123456789abcdef")}}}})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, p.StatusCode(), string(p.Body))
	assert.True(t, p.JSON201.Enabled)
	assert.Equal(t, 300, p.JSON201.CooldownSec)
	hook := (*p.JSON201.Channels.Webhook)[0]
	assert.Equal(t, "********", *hook.Secret, "secrets never come back")

	// Sending the masked value back keeps the stored secret; a partial update keeps the rest.
	up, err := c.UpdateAlertPolicyWithResponse(ctx, p.JSON201.Id, nil, client.AlertPolicyUpdate{Name: "renamed", Enabled: ptr(false),
		Channels: &client.AlertChannels{Webhook: &[]client.WebhookChannel{hook}}})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, up.StatusCode(), string(up.Body))
	assert.False(t, up.JSON200.Enabled)
	assert.Equal(t, 300, up.JSON200.CooldownSec)
	var stored string
	require.NoError(t, env.Pool.QueryRow(ctx, "SELECT channels->'webhook'->0->>'secret' FROM alert_policies").Scan(&stored))
	assert.Equal(t, "0123456789abcdef", stored)

	// The contract refuses what it can express (URLs, secrets, sizes); the handler only what
	// needs the database (another workspace's schedule). Both name the field the same way.
	tooMany := make([]client.EmailChannel, 101)
	for i := range tooMany {
		tooMany[i] = openapi_types.Email(fmt.Sprintf("ops%d@example.com", i))
	}
	for field, bad := range map[string]struct {
		ch      client.AlertChannels
		message string
	}{
		"channels.webhook.0.url":    {client.AlertChannels{Webhook: &[]client.WebhookChannel{{Url: "ftp://127.0.0.1/x"}}}, "must be an absolute http or https URL"},
		"channels.webhook.1.secret": {client.AlertChannels{Webhook: &[]client.WebhookChannel{{Url: "http://127.0.0.1:9/"}, {Url: "http://127.0.0.1:9/", Secret: ptr("short-secret")}}}, "must be 16 to 256 characters"},
		"channels.slack.0":          {client.AlertChannels{Slack: &[]client.SlackChannel{"not a url"}}, "must be an absolute http or https URL"},
		"channels.slack.1":          {client.AlertChannels{Slack: &[]client.SlackChannel{"https://hooks.example.com/x", "https:///no-host"}}, "must be an absolute http or https URL"},
		"channels.email":            {client.AlertChannels{Email: &tooMany}, "maximum number of items is 100"},
		"channels.oncall.0":         {client.AlertChannels{Oncall: &[]client.OncallChannel{uuid.New()}}, "no such on-call schedule in this workspace"},
	} {
		r, err := c.CreateAlertPolicyWithResponse(ctx, nil, client.AlertPolicyCreate{Name: "bad", Channels: &bad.ch})
		require.NoError(t, err)
		assert.Equal(t, http.StatusBadRequest, r.StatusCode(), field)
		assert.Equal(t, "application/problem+json", r.HTTPResponse.Header.Get("Content-Type"), field)
		assert.Contains(t, string(r.Body), `"field":"`+field+`"`)
		assert.Contains(t, string(r.Body), bad.message, field)
	}
	long := "https://hooks.example.com/" + strings.Repeat("x", 2048)
	r, err := c.CreateAlertPolicyWithResponse(ctx, nil, client.AlertPolicyCreate{Name: "bad", Channels: &client.AlertChannels{Slack: &[]client.SlackChannel{long}}})
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, r.StatusCode())
	assert.Contains(t, string(r.Body), `"field":"channels.slack.0"`)
	dup, err := c.CreateAlertPolicyWithResponse(ctx, nil, client.AlertPolicyCreate{Name: "bad",
		Conditions: &client.AlertConditions{Severity: &[]client.Severity{client.SeverityMajor, client.SeverityMajor}}})
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, dup.StatusCode())
	assert.Contains(t, string(dup.Body), `"field":"conditions.severity"`)
	list, err := c.ListAlertPoliciesWithResponse(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, list.JSON200.Count, "refused policies changed nothing")
	del, err := c.DeleteAlertPolicyWithResponse(ctx, p.JSON201.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNoContent, del.StatusCode())
	again, err := c.GetAlertPolicyWithResponse(ctx, p.JSON201.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, again.StatusCode())
}

// Incidents opened by hand go through the policies too, and so does their resolution, even
// when it comes as a timeline update that sets the status.
func TestManualIncidentNotifies(t *testing.T) {
	f := newAlertFixture(t, alerting.Config{})
	ctx := context.Background()
	f.policy(t, "majors", client.AlertConditions{Severity: &[]client.Severity{client.SeverityMajor}},
		client.AlertChannels{Email: &[]openapi_types.Email{"ops@example.com"}}, 0)
	minor := client.SeverityMinor
	quiet, err := f.c.CreateIncidentWithResponse(ctx, nil, client.IncidentCreate{Title: "minor", Severity: &minor})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, quiet.StatusCode())
	assert.Zero(t, f.deliveries(t, &quiet.JSON201.Id), "the policy's conditions do not match")

	inc, err := f.c.CreateIncidentWithResponse(ctx, nil, client.IncidentCreate{Title: "db-01 lent"})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, inc.StatusCode())
	assert.Equal(t, 1, f.deliveries(t, &inc.JSON201.Id))
	resolved := client.IncidentStatusResolved
	up, err := f.c.AddIncidentUpdateWithResponse(ctx, inc.JSON201.Id, nil, client.IncidentUpdateCreate{Note: "Corrigé.", Status: &resolved})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, up.StatusCode(), string(up.Body))
	assert.Equal(t, 2, f.deliveries(t, &inc.JSON201.Id))
	assert.Equal(t, []string{"opened", "notified", "update", "notified"}, f.timeline(t, inc.JSON201.Id))
}

// An alert policy's conditions name hosts of its own workspace only: another workspace's
// host is refused like a made-up id, on create and on update, and nothing is stored.
func TestAlertPolicyConditionsNameOwnHosts(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()
	own := createHost(t, c, "own")
	otherWS := env.NewWorkspace(t, "other")
	foreign := createHost(t, env.Client(t, env.Token(t, otherWS.String(), access.Owner).Token), "theirs")

	for _, ids := range [][]uuid.UUID{{foreign.Id}, {own.Id, uuid.New()}} {
		r, err := c.CreateAlertPolicyWithResponse(ctx, nil, client.AlertPolicyCreate{Name: "p",
			Conditions: &client.AlertConditions{HostIds: &ids}})
		require.NoError(t, err)
		require.Equal(t, http.StatusBadRequest, r.StatusCode(), string(r.Body))
		require.NotNil(t, r.ApplicationproblemJSON400)
		assert.Equal(t, fmt.Sprintf("conditions.host_ids.%d", len(ids)-1), (*r.ApplicationproblemJSON400.Errors)[0].Field)
	}
	var n int
	require.NoError(t, env.Pool.QueryRow(ctx, "SELECT count(*) FROM alert_policies").Scan(&n))
	require.Zero(t, n, "a refused policy is not stored")

	ok, err := c.CreateAlertPolicyWithResponse(ctx, nil, client.AlertPolicyCreate{Name: "p",
		Conditions: &client.AlertConditions{HostIds: &[]uuid.UUID{own.Id}}})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, ok.StatusCode(), string(ok.Body))
	up, err := c.UpdateAlertPolicyWithResponse(ctx, ok.JSON201.Id, nil, client.AlertPolicyUpdate{Name: "p",
		Conditions: &client.AlertConditions{HostIds: &[]uuid.UUID{foreign.Id}}})
	require.NoError(t, err)
	require.Equal(t, http.StatusBadRequest, up.StatusCode(), string(up.Body))
}
