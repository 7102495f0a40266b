package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

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

	created, err := c.CreateCheckWithResponse(ctx, nil, client.CheckCreate{
		HostId: host.Id, Name: "ping web-prod-01", CheckType: client.CheckTypePing,
		Config: &client.CheckConfig{"host": "127.0.0.1"}, IntervalSec: ptr(60), TimeoutSec: ptr(10),
	})

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
	_, err = c.CreateCheckWithResponse(ctx, nil, client.CheckCreate{HostId: other.Id, Name: "tcp db-01", CheckType: client.CheckTypeTcp, Config: &client.CheckConfig{"port": 5432}})
	require.NoError(t, err)

	byHost, err := c.ListChecksWithResponse(ctx, &client.ListChecksParams{HostId: &host.Id})
	require.NoError(t, err)
	require.Equal(t, 1, byHost.JSON200.Count)
	assert.Equal(t, ck.Id, byHost.JSON200.Checks[0].Id)
	all, err := c.ListChecksWithResponse(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, 2, all.JSON200.Count)

	upd, err := c.UpdateCheckWithResponse(ctx, ck.Id, client.CheckUpdate{IntervalSec: ptr(120), Enabled: ptr(false)})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, upd.StatusCode(), string(upd.Body))
	assert.Equal(t, 120, upd.JSON200.IntervalSec)
	assert.False(t, upd.JSON200.Enabled)
	assert.Equal(t, "ping web-prod-01", upd.JSON200.Name)
	assert.Equal(t, "127.0.0.1", upd.JSON200.Config["host"])

	// Deleting the host deletes its checks.
	_, err = c.DeleteHostWithResponse(ctx, host.Id)
	require.NoError(t, err)
	gone, err := c.GetCheckWithResponse(ctx, ck.Id)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, gone.StatusCode())
	left, err := c.ListChecksWithResponse(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, left.JSON200.Count)

	del, err := c.DeleteCheckWithResponse(ctx, left.JSON200.Checks[0].Id)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNoContent, del.StatusCode())
}

func TestCheckConfigValidatedPerType(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()
	host := createHost(t, c, "h")

	cases := []struct {
		name      string
		checkType client.CheckType
		config    client.CheckConfig
		field     string
	}{
		{"ping count too high", client.CheckTypePing, client.CheckConfig{"count": 500}, "config.count"},
		{"tcp needs a port", client.CheckTypeTcp, client.CheckConfig{}, "config.port"},
		{"tcp port out of range", client.CheckTypeTcp, client.CheckConfig{"port": 70000}, "config.port"},
		{"http needs a url", client.CheckTypeHttp, client.CheckConfig{"method": "GET"}, "config.url"},
		{"snmp unknown version", client.CheckTypeSnmp, client.CheckConfig{"version": "v9"}, "config.version"},
		{"dns unknown field", client.CheckTypeDns, client.CheckConfig{"query_name": "example.org", "bogus": 1}, "config.bogus"},
		{"tls days negative", client.CheckTypeTls, client.CheckConfig{"warn_days": -1}, "config.warn_days"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := c.CreateCheckWithResponse(ctx, nil, client.CheckCreate{HostId: host.Id, Name: tc.name, CheckType: tc.checkType, Config: &tc.config})
			require.NoError(t, err)
			require.Equal(t, http.StatusBadRequest, r.StatusCode(), string(r.Body))
			require.NotNil(t, r.ApplicationproblemJSON400)
			var fields []string
			for _, f := range *r.ApplicationproblemJSON400.Errors {
				fields = append(fields, f.Field)
			}
			assert.Contains(t, fields, tc.field)
		})
	}
	n, err := env.Queries.CountChecks(ctx, db.CountChecksParams{WorkspaceID: env.Workspace})
	require.NoError(t, err)
	assert.Zero(t, n, "a refused check is not stored")
}

func TestCheckSecretsAreMasked(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()
	host := createHost(t, c, "switch-01")

	r, err := c.CreateCheckWithResponse(ctx, nil, client.CheckCreate{
		HostId: host.Id, Name: "snmp switch-01", CheckType: client.CheckTypeSnmp,
		Config: &client.CheckConfig{"host": "127.0.0.1", "version": "v2c", "community": "s3cret-community"},
	})

	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), string(r.Body))
	assert.Equal(t, "********", r.JSON201.Config["community"])
	assert.NotContains(t, string(r.Body), "s3cret-community")

	got, err := c.GetCheckWithResponse(ctx, r.JSON201.Id)
	require.NoError(t, err)
	assert.NotContains(t, string(got.Body), "s3cret-community")

	// Sending the masked config back (read-modify-write) keeps the stored secret.
	cfg := got.JSON200.Config
	cfg["port"] = 16161
	upd, err := c.UpdateCheckWithResponse(ctx, r.JSON201.Id, client.CheckUpdate{Config: &cfg})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, upd.StatusCode(), string(upd.Body))
	stored, err := env.Queries.GetCheck(ctx, db.GetCheckParams{WorkspaceID: env.Workspace, ID: r.JSON201.Id})
	require.NoError(t, err)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(stored.Config, &raw))
	assert.Equal(t, "s3cret-community", raw["community"])
	assert.EqualValues(t, 16161, raw["port"])

	// HTTP header values are secrets too.
	h, err := c.CreateCheckWithResponse(ctx, nil, client.CheckCreate{
		HostId: host.Id, Name: "http api", CheckType: client.CheckTypeHttp,
		Config: &client.CheckConfig{"url": "http://127.0.0.1:9/health", "headers": map[string]any{"Authorization": "Bearer xyz-secret"}},
	})

	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, h.StatusCode(), string(h.Body))
	assert.NotContains(t, string(h.Body), "xyz-secret")
	assert.Equal(t, map[string]any{"Authorization": "********"}, h.JSON201.Config["headers"])
}
