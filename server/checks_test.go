package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

func createHost(t *testing.T, c *client.ClientWithResponses, name string) client.Host {
	t.Helper()
	r, err := c.CreateHostWithResponse(context.Background(), nil, client.HostCreate{Name: name, Hostname: "127.0.0.1"})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), string(r.Body))
	return *r.JSON201
}

func TestChecksLifecycle(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()
	host := createHost(t, c, "web-prod-01")

	created, err := c.CreateCheckWithResponse(ctx, nil, client.NewCheckCreate(client.PingCheckCreate{
		HostId: host.Id, Name: "ping web-prod-01",
		Config: &client.PingConfig{Host: ptr("127.0.0.1")}, IntervalSec: ptr(60), TimeoutSec: ptr(10),
	}))

	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, created.StatusCode(), string(created.Body))
	ck := created.JSON201
	assert.Equal(t, host.Id, ck.HostId)
	assert.Equal(t, client.CheckTypePing, ck.CheckType)
	assert.Equal(t, 60, ck.IntervalSec)
	assert.Equal(t, 10, ck.TimeoutSec)
	assert.Equal(t, 2, ck.FailureThreshold)
	assert.True(t, ck.Enabled)

	other := createHost(t, c, "db-01")
	_, err = c.CreateCheckWithResponse(ctx, nil, client.NewCheckCreate(client.TcpCheckCreate{HostId: other.Id, Name: "tcp db-01", Config: client.TcpConfig{Port: 5432}}))
	require.NoError(t, err)

	byHost, err := c.ListChecksWithResponse(ctx, &client.ListChecksParams{HostId: &host.Id})
	require.NoError(t, err)
	require.Equal(t, 1, byHost.JSON200.Count)
	assert.Equal(t, ck.Id, byHost.JSON200.Checks[0].Id)
	all, err := c.ListChecksWithResponse(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, 2, all.JSON200.Count)

	upd, err := c.UpdateCheckWithResponse(ctx, ck.Id, nil, client.CheckUpdate{IntervalSec: ptr(120), Enabled: ptr(false)})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, upd.StatusCode(), string(upd.Body))
	assert.Equal(t, 120, upd.JSON200.IntervalSec)
	assert.False(t, upd.JSON200.Enabled)
	assert.Equal(t, "ping web-prod-01", upd.JSON200.Name)
	pingCfg, err := upd.JSON200.Config.AsPingConfig()
	require.NoError(t, err)
	assert.Equal(t, ptr("127.0.0.1"), pingCfg.Host)

	// Deleting the host deletes its checks.
	_, err = c.DeleteHostWithResponse(ctx, host.Id, nil)
	require.NoError(t, err)
	gone, err := c.GetCheckWithResponse(ctx, ck.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, gone.StatusCode())
	left, err := c.ListChecksWithResponse(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, left.JSON200.Count)

	del, err := c.DeleteCheckWithResponse(ctx, left.JSON200.Checks[0].Id, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNoContent, del.StatusCode())
}

// TestResumedCheckRunsSoon: while a check is paused (or its host inactive) the workers' claims
// park its schedule; enabling it, activating its host or changing its interval brings its next
// run within min(interval, 10 s), where any other change leaves the schedule alone.
func TestResumedCheckRunsSoon(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()
	host := createHost(t, c, "resumed")
	created, err := c.CreateCheckWithResponse(ctx, nil, client.NewCheckCreate(client.TcpCheckCreate{
		HostId: host.Id, Name: "tcp resumed", Config: client.TcpConfig{Port: 9}, IntervalSec: ptr(3600),
	}))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, created.StatusCode(), string(created.Body))
	id := created.JSON201.Id
	// As a claim leaves a paused check's schedule, further ahead than any wake would bring it.
	park := func() {
		t.Helper()
		_, err := env.Pool.Exec(ctx, "UPDATE check_schedules SET next_run_at = now() + interval '1 hour' WHERE check_id = $1", id)
		require.NoError(t, err)
	}
	nextRun := func() time.Time {
		t.Helper()
		got, err := c.GetCheckWithResponse(ctx, id, nil)
		require.NoError(t, err)
		require.NotNil(t, got.JSON200.NextRunAt, "an enabled check shows its next run")
		return *got.JSON200.NextRunAt
	}
	update := func(u client.CheckUpdate) client.Check {
		t.Helper()
		r, err := c.UpdateCheckWithResponse(ctx, id, nil, u)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.StatusCode(), string(r.Body))
		return *r.JSON200
	}

	park()
	assert.Nil(t, update(client.CheckUpdate{Enabled: ptr(false)}).NextRunAt, "a paused check has no next run")
	resumed := update(client.CheckUpdate{Enabled: ptr(true)})
	require.NotNil(t, resumed.NextRunAt)
	assert.WithinDuration(t, time.Now(), *resumed.NextRunAt, 11*time.Second, "enabling brings the next run within 10 s")

	park()
	update(client.CheckUpdate{Name: ptr("tcp resumed, renamed")})
	assert.Greater(t, time.Until(nextRun()), 50*time.Minute, "a rename leaves the schedule alone")
	update(client.CheckUpdate{Enabled: ptr(true), IntervalSec: ptr(3600)})
	assert.Greater(t, time.Until(nextRun()), 50*time.Minute, "sending back the same enabled and interval leaves the schedule alone")
	update(client.CheckUpdate{IntervalSec: ptr(30)})
	assert.WithinDuration(t, time.Now(), nextRun(), 11*time.Second, "a new interval brings the next run within 10 s")

	park()
	r, err := c.UpdateHostWithResponse(ctx, host.Id, nil, client.HostUpdate{IsActive: ptr(true), Description: ptr("still active")})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.StatusCode(), string(r.Body))
	assert.Greater(t, time.Until(nextRun()), 50*time.Minute, "an active host sent back as active leaves its checks' schedules alone")
	for _, active := range []bool{false, true} {
		r, err := c.UpdateHostWithResponse(ctx, host.Id, nil, client.HostUpdate{IsActive: ptr(active)})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.StatusCode(), string(r.Body))
	}
	assert.WithinDuration(t, time.Now(), nextRun(), 11*time.Second, "activating the host brings its checks' next run within 10 s")
}

func TestCheckConfigValidatedPerType(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()
	host := createHost(t, c, "h")

	// Typed variants where the mistake can be typed; the type-independent form (config as a
	// map) for what a typed config cannot say: a missing required field, an unknown field.
	untyped := func(checkType client.CheckType, config map[string]any) client.CheckCreate {
		return client.CheckCreateBase{HostId: host.Id, Name: "untyped", CheckType: checkType, Config: &config}.CheckCreate()
	}
	cases := []struct {
		name  string
		body  client.CheckCreate
		field string
	}{
		{"ping count too high", client.NewCheckCreate(client.PingCheckCreate{HostId: host.Id, Name: "p", Config: &client.PingConfig{Count: ptr(500)}}), "config.count"},
		{"tcp needs a port", client.NewCheckCreate(client.TcpCheckCreate{HostId: host.Id, Name: "t", Config: client.TcpConfig{}}), "config.port"},
		{"tcp port out of range", client.NewCheckCreate(client.TcpCheckCreate{HostId: host.Id, Name: "t", Config: client.TcpConfig{Port: 70000}}), "config.port"},
		{"tcp needs a config", untyped(client.CheckTypeTcp, nil), "config"},
		{"http needs a url", untyped(client.CheckTypeHttp, map[string]any{"method": "GET"}), "config.url"},
		{"http unknown method", client.NewCheckCreate(client.HttpCheckCreate{HostId: host.Id, Name: "h", Config: client.HttpConfig{URL: "http://127.0.0.1/", Method: ptr(client.HttpConfigMethod("BREW"))}}), "config.method"},
		{"http file scheme", client.NewCheckCreate(client.HttpCheckCreate{HostId: host.Id, Name: "h", Config: client.HttpConfig{URL: "file:///etc/passwd"}}), "config.url"},
		{"http gopher scheme", client.NewCheckCreate(client.HttpCheckCreate{HostId: host.Id, Name: "h", Config: client.HttpConfig{URL: "gopher://127.0.0.1:6379/_INFO"}}), "config.url"},
		{"http javascript scheme", client.NewCheckCreate(client.HttpCheckCreate{HostId: host.Id, Name: "h", Config: client.HttpConfig{URL: "javascript:alert(1)"}}), "config.url"},
		{"snmp unknown version", client.NewCheckCreate(client.SnmpCheckCreate{HostId: host.Id, Name: "s", Config: &client.SnmpConfig{Version: ptr(client.SnmpConfigVersion("v9"))}}), "config.version"},
		{"snmp oid not numeric", client.NewCheckCreate(client.SnmpCheckCreate{HostId: host.Id, Name: "s", Config: &client.SnmpConfig{Oids: &[]client.SnmpOid{{Oid: "sysDescr"}}}}), "config.oids.0.oid"},
		{"dns unknown field", untyped(client.CheckTypeDns, map[string]any{"query_name": "example.org", "bogus": 1}), "config.bogus"},
		{"dns empty name", client.NewCheckCreate(client.DnsCheckCreate{HostId: host.Id, Name: "d", Config: client.DnsConfig{QueryName: ""}}), "config.query_name"},
		{"tls days negative", client.NewCheckCreate(client.TlsCheckCreate{HostId: host.Id, Name: "t", Config: &client.TlsConfig{WarnDays: ptr(-1)}}), "config.warn_days"},
		{"another type's field", untyped(client.CheckTypePing, map[string]any{"port": 443}), "config.port"},
		{"unknown check type", untyped("gopher", map[string]any{}), "check_type"},
		{"name missing", client.NewCheckCreate(client.PingCheckCreate{HostId: host.Id}), "name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := c.CreateCheckWithResponse(ctx, nil, tc.body)
			require.NoError(t, err)
			require.Equal(t, http.StatusBadRequest, r.StatusCode(), string(r.Body))
			require.NotNil(t, r.ApplicationproblemJSON400)
			var fields []string
			for _, f := range *r.ApplicationproblemJSON400.Errors {
				fields = append(fields, f.Field)
			}
			assert.Contains(t, fields, tc.field)
			if strings.HasSuffix(tc.name, " scheme") {
				assert.Contains(t, string(r.Body), "must be an absolute http or https URL")
			}
		})
	}
	n, err := env.Queries.CountChecks(ctx, db.CountChecksParams{WorkspaceID: env.Workspace})
	require.NoError(t, err)
	assert.Zero(t, n, "a refused check is not stored")

	// An update's config is validated against the stored type's schema: a valid tls config
	// is refused on a ping check, naming the field.
	ping, err := c.CreateCheckWithResponse(ctx, nil, client.NewCheckCreate(client.PingCheckCreate{HostId: host.Id, Name: "ping"}))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, ping.StatusCode(), string(ping.Body))
	r, err := c.UpdateCheckWithResponse(ctx, ping.JSON201.Id, nil, client.CheckUpdate{Config: client.NewCheckConfig(client.TlsConfig{WarnDays: ptr(14)})})
	require.NoError(t, err)
	require.Equal(t, http.StatusBadRequest, r.StatusCode(), string(r.Body))
	assert.Equal(t, "config.warn_days", (*r.ApplicationproblemJSON400.Errors)[0].Field)
	// A config that fits no type at all is also the handler's to judge: it names the field.
	notJSONObject := new(client.CheckConfig)
	require.NoError(t, notJSONObject.UnmarshalJSON([]byte(`5`)))
	for _, tc := range []struct {
		update client.CheckUpdate
		field  string
	}{
		{client.CheckUpdate{Config: client.NewCheckConfig(client.PingConfig{Count: ptr(500)})}, "config.count"},
		{client.CheckUpdate{Config: client.CheckConfigFromMap(map[string]any{"count": 2, "bogus": true})}, "config.bogus"},
		{client.CheckUpdate{Config: notJSONObject}, "config"},
		{client.CheckUpdate{Config: client.NewCheckConfig(client.PingConfig{Count: ptr(500)}), IntervalSec: ptr(1)}, "interval_sec"},
	} {
		r, err := c.UpdateCheckWithResponse(ctx, ping.JSON201.Id, nil, tc.update)
		require.NoError(t, err)
		require.Equal(t, http.StatusBadRequest, r.StatusCode(), string(r.Body))
		var fields []string
		for _, f := range *r.ApplicationproblemJSON400.Errors {
			fields = append(fields, f.Field)
		}
		assert.Contains(t, fields, tc.field, string(r.Body))
	}
	r, err = c.UpdateCheckWithResponse(ctx, ping.JSON201.Id, nil, client.CheckUpdate{Config: client.NewCheckConfig(client.PingConfig{Count: ptr(5), CritLossPct: ptr(50.0)})})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.StatusCode(), string(r.Body))
	cfg, err := r.JSON200.TypedConfig()
	require.NoError(t, err)
	assert.Equal(t, client.PingConfig{Count: ptr(5), CritLossPct: ptr(50.0)}, cfg)
}

func TestCheckSecretsAreMasked(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()
	host := createHost(t, c, "switch-01")

	r, err := c.CreateCheckWithResponse(ctx, nil, client.NewCheckCreate(client.SnmpCheckCreate{
		HostId: host.Id, Name: "snmp switch-01",
		Config: &client.SnmpConfig{Host: ptr("127.0.0.1"), Version: ptr(client.SnmpVersionV2c), Community: ptr("s3cret-community")},
	}))

	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), string(r.Body))
	created, err := r.JSON201.Config.AsSnmpConfig()
	require.NoError(t, err)
	assert.Equal(t, ptr("********"), created.Community)
	assert.NotContains(t, string(r.Body), "s3cret-community")

	got, err := c.GetCheckWithResponse(ctx, r.JSON201.Id, nil)
	require.NoError(t, err)
	assert.NotContains(t, string(got.Body), "s3cret-community")

	// Sending the masked config back (read-modify-write) keeps the stored secret.
	cfg, err := got.JSON200.Config.AsSnmpConfig()
	require.NoError(t, err)
	cfg.Port = ptr(16161)
	upd, err := c.UpdateCheckWithResponse(ctx, r.JSON201.Id, nil, client.CheckUpdate{Config: client.NewCheckConfig(cfg)})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, upd.StatusCode(), string(upd.Body))
	stored, err := env.Queries.GetCheck(ctx, db.GetCheckParams{WorkspaceID: env.Workspace, ID: r.JSON201.Id})
	require.NoError(t, err)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(stored.Config, &raw))
	assert.Equal(t, "s3cret-community", raw["community"])
	assert.EqualValues(t, 16161, raw["port"])

	// HTTP header values are secrets too.
	h, err := c.CreateCheckWithResponse(ctx, nil, client.NewCheckCreate(client.HttpCheckCreate{
		HostId: host.Id, Name: "http api",
		Config: client.HttpConfig{URL: "http://127.0.0.1:9/health", Headers: &map[string]string{"Authorization": "Bearer xyz-secret"}},
	}))

	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, h.StatusCode(), string(h.Body))
	assert.NotContains(t, string(h.Body), "xyz-secret")
	httpCfg, err := h.JSON201.Config.AsHttpConfig()
	require.NoError(t, err)
	assert.Equal(t, &map[string]string{"Authorization": "********"}, httpCfg.Headers)
}
