package server_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/openapi"
	"github.com/secuaas/secumon/probes/runner/worker"
	"github.com/secuaas/secumon/server"
	"github.com/secuaas/secumon/server/edge/ratelimit"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

// pingHTTP calls a ping URL as a cron job's curl would and returns the status and body.
func pingHTTP(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func createHeartbeat(t *testing.T, c *client.ClientWithResponses, host client.Host, name string, cfg client.HeartbeatConfig) client.Check {
	t.Helper()
	r, err := c.CreateCheckWithResponse(context.Background(), nil, client.NewCheckCreate(client.HeartbeatCheckCreate{
		HostId: host.Id, Name: name, Config: cfg, FailureThreshold: ptr(1), IntervalSec: ptr(10),
	}))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), string(r.Body))
	require.NotNil(t, r.JSON201.PingUrl, "the create answer shows the ping URL once")
	return *r.JSON201
}

func openIncidentsOf(t *testing.T, c *client.ClientWithResponses, ck client.Check) (open, resolved int) {
	t.Helper()
	all := client.ListIncidentsParamsStatusAll
	r, err := c.ListIncidentsWithResponse(context.Background(), &client.ListIncidentsParams{Status: &all, HostId: &ck.HostId})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.StatusCode(), string(r.Body))
	for _, i := range r.JSON200.Incidents {
		if i.CheckId != nil && *i.CheckId == ck.Id {
			if i.ResolvedAt == nil {
				open++
			} else {
				resolved++
			}
		}
	}
	return open, resolved
}

// A heartbeat check with a period of 2 s and a grace of 1 s, with a real worker: pinged by the
// test it stays OK; when the pings stop an incident opens (the worker judges the check at its
// deadline); one ping resolves it. /fail opens one at once, with the body in the output.
func TestHeartbeatCheckEndToEnd(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()
	servertest.Run(t, server.Deps{Pool: env.Pool, Worker: &worker.Options{Name: "hb", PollEvery: 50 * time.Millisecond}})
	host := createHost(t, c, "backup-host")

	ck := createHeartbeat(t, c, host, "nightly backup", client.HeartbeatConfig{PeriodSec: ptr(2), GraceSec: ptr(1)})
	url := *ck.PingUrl
	assert.True(t, strings.HasPrefix(url, env.URL+"/ping/hb_"), url)

	// The URL is a secret: never shown again.
	got, err := c.GetCheckWithResponse(ctx, ck.Id, nil)
	require.NoError(t, err)
	assert.Nil(t, got.JSON200.PingUrl)
	assert.NotContains(t, string(got.Body), strings.TrimPrefix(url, env.URL+"/ping/"))
	list, err := c.ListChecksWithResponse(ctx, nil)
	require.NoError(t, err)
	assert.NotContains(t, string(list.Body), "ping_url")

	// Pinged every 500 ms for 4 s (twice the period): OK, no incident.
	for i := range 8 {
		method := []string{http.MethodGet, http.MethodPost, http.MethodHead}[i%3]
		status, body := pingHTTP(t, method, url, "")
		require.Equal(t, http.StatusOK, status)
		if method != http.MethodHead {
			assert.Equal(t, "OK", body)
		}
		time.Sleep(500 * time.Millisecond)
	}
	eventually(t, 5*time.Second, func() bool {
		r, err := c.GetCheckLastResultWithResponse(ctx, ck.Id, nil)
		return err == nil && r.JSON200 != nil
	}, "a result of the pings")
	last, err := c.GetCheckLastResultWithResponse(ctx, ck.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, client.CheckStatus(0), last.JSON200.Status, last.JSON200.Output)
	open, _ := openIncidentsOf(t, c, ck)
	assert.Zero(t, open, "no incident while the pings come")

	// The pings stop: 3 s later the worker judges the check CRITICAL and an incident opens.
	stopped := time.Now()
	eventually(t, 10*time.Second, func() bool { o, _ := openIncidentsOf(t, c, ck); return o == 1 }, "an incident after the pings stopped")
	assert.GreaterOrEqual(t, time.Since(stopped), 2500*time.Millisecond, "not before the deadline")
	last, err = c.GetCheckLastResultWithResponse(ctx, ck.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, client.CheckStatus(2), last.JSON200.Status)
	assert.Contains(t, last.JSON200.Output, "expected every 2s + 1s grace")

	// One ping resolves it.
	status, _ := pingHTTP(t, http.MethodPost, url, "backup done\n")
	require.Equal(t, http.StatusOK, status)
	eventually(t, 10*time.Second, func() bool { o, r := openIncidentsOf(t, c, ck); return o == 0 && r == 1 }, "the incident resolved by a ping")
	last, err = c.GetCheckLastResultWithResponse(ctx, ck.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, client.CheckStatus(0), last.JSON200.Status)
	assert.Equal(t, "success ping\nbackup done", last.JSON200.Output)

	// A failure (exit status 3) opens an incident at once, its log (NUL removed, cut at 10 KB)
	// in the output.
	log := "tar: disk full\x00" + strings.Repeat("x", 20<<10)
	status, _ = pingHTTP(t, http.MethodPost, url+"/3", log)
	require.Equal(t, http.StatusOK, status)
	eventually(t, 5*time.Second, func() bool { o, _ := openIncidentsOf(t, c, ck); return o == 1 }, "an incident after /3")
	last, err = c.GetCheckLastResultWithResponse(ctx, ck.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, client.CheckStatus(2), last.JSON200.Status)
	assert.True(t, strings.HasPrefix(last.JSON200.Output, "the job reported a failure (exit status 3)\ntar: disk full"), last.JSON200.Output[:80])
	assert.NotContains(t, last.JSON200.Output, "\x00")
	assert.Less(t, len(last.JSON200.Output), 10<<10+100)
	assert.True(t, strings.HasSuffix(last.JSON200.Output, "[cut at 10 KB]"))
	require.NotNil(t, last.JSON200.Metrics)
	assert.Equal(t, 3.0, (*last.JSON200.Metrics)["exit_status"])

	// /start is recorded, /0 is a success that resolves it.
	status, _ = pingHTTP(t, http.MethodGet, url+"/start", "")
	require.Equal(t, http.StatusOK, status)
	status, _ = pingHTTP(t, http.MethodGet, url+"/0", "")
	require.Equal(t, http.StatusOK, status)
	eventually(t, 5*time.Second, func() bool { o, _ := openIncidentsOf(t, c, ck); return o == 0 }, "the incident resolved by /0")

	// /fail, then rotation: the old URL is unknown, the new one works.
	status, _ = pingHTTP(t, http.MethodGet, url+"/fail", "")
	require.Equal(t, http.StatusOK, status)
	rot, err := c.RotateCheckPingTokenWithResponse(ctx, ck.Id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, rot.StatusCode(), string(rot.Body))
	assert.NotEqual(t, url, rot.JSON200.PingUrl)
	status, _ = pingHTTP(t, http.MethodGet, url, "")
	assert.Equal(t, http.StatusNotFound, status, "the old URL after rotation")
	status, _ = pingHTTP(t, http.MethodGet, rot.JSON200.PingUrl, "")
	assert.Equal(t, http.StatusOK, status)
}

func TestHeartbeatPingErrorsAndValidation(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()
	host := createHost(t, c, "job-host")

	for _, bad := range []struct {
		cfg   client.HeartbeatConfig
		field string
	}{
		{client.HeartbeatConfig{}, "config.period_sec"},
		{client.HeartbeatConfig{PeriodSec: ptr(60), Schedule: ptr("0 3 * * *")}, "config.schedule"},
		{client.HeartbeatConfig{Schedule: ptr("0 3 * *")}, "config.schedule"},
		{client.HeartbeatConfig{Schedule: ptr("0 3 * * *"), Timezone: ptr("Europe/Nowhere")}, "config.timezone"},
		{client.HeartbeatConfig{PeriodSec: ptr(60), GraceSec: ptr(86401)}, "config.grace_sec"},
	} {
		r, err := c.CreateCheckWithResponse(ctx, nil, client.NewCheckCreate(client.HeartbeatCheckCreate{HostId: host.Id, Name: "bad", Config: bad.cfg}))
		require.NoError(t, err)
		assert.Equal(t, http.StatusBadRequest, r.StatusCode(), string(r.Body))
		assert.Contains(t, string(r.Body), `"field":"`+bad.field+`"`, string(r.Body))
	}

	cron := createHeartbeat(t, c, host, "cron job", client.HeartbeatConfig{Schedule: ptr("0 3 * * *"), Timezone: ptr("Europe/Paris"), GraceSec: ptr(600)})
	upd, err := c.UpdateCheckWithResponse(ctx, cron.Id, nil, client.CheckUpdate{Config: client.NewCheckConfig(client.HeartbeatConfig{PeriodSec: ptr(60), Schedule: ptr("@daily")})})
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, upd.StatusCode())
	assert.Contains(t, string(upd.Body), `"field":"config.schedule"`)

	status, body := pingHTTP(t, http.MethodGet, env.URL+"/ping/hb_unknown-token-0123456789", "")
	assert.Equal(t, http.StatusNotFound, status)
	assert.Contains(t, body, "not found")
	status, _ = pingHTTP(t, http.MethodGet, *cron.PingUrl+"/256", "")
	assert.Equal(t, http.StatusNotFound, status, "exit status above 255")
	status, _ = pingHTTP(t, http.MethodDelete, *cron.PingUrl, "")
	assert.Equal(t, http.StatusMethodNotAllowed, status)

	// Every route of openapi/ping.yaml is served, as documented: 200, "OK" but for HEAD.
	doc, err := openapi.Load(ctx, openapi.PingYAML)
	require.NoError(t, err)
	token := strings.TrimPrefix(*cron.PingUrl, env.URL+"/ping/")
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			url := env.URL + strings.NewReplacer("{token}", token, "{exit_status}", "0").Replace(path)
			status, body := pingHTTP(t, method, url, "")
			assert.Equal(t, http.StatusOK, status, "%s %s", method, path)
			if method != http.MethodHead {
				assert.Equal(t, "OK", body, "%s %s", method, path)
			}
		}
	}

	// Rotating a check of another type is a conflict.
	tcp, err := c.CreateCheckWithResponse(ctx, nil, client.NewCheckCreate(client.TcpCheckCreate{HostId: host.Id, Name: "tcp", Config: client.TcpConfig{Port: 22}, Enabled: ptr(false)}))
	require.NoError(t, err)
	assert.Nil(t, tcp.JSON201.PingUrl)
	rot, err := c.RotateCheckPingTokenWithResponse(ctx, tcp.JSON201.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusConflict, rot.StatusCode())

	// A disabled check's pings are accepted and ignored.
	off := false
	_, err = c.UpdateCheckWithResponse(ctx, cron.Id, nil, client.CheckUpdate{Enabled: &off})
	require.NoError(t, err)
	status, _ = pingHTTP(t, http.MethodGet, *cron.PingUrl, "")
	assert.Equal(t, http.StatusOK, status)
	r, err := c.GetCheckLastResultWithResponse(ctx, cron.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, r.StatusCode(), "no result for a disabled check's ping")
}

func TestHeartbeatPingsAreRateLimited(t *testing.T) {
	env := servertest.Start(t, limited(ratelimit.Config{TokenRate: -1, AddrRate: -1, FailedAuthPerMinute: -1, PingRate: 0.1, PingBurst: 2}))
	c := env.Client(t, env.OwnerToken)
	host := createHost(t, c, "job-host")
	ck := createHeartbeat(t, c, host, "busy job", client.HeartbeatConfig{PeriodSec: ptr(3600)})
	for range 2 {
		status, _ := pingHTTP(t, http.MethodGet, *ck.PingUrl, "")
		require.Equal(t, http.StatusOK, status)
	}
	resp, body := rlCall(t, *ck.PingUrl, "", "")
	requireTooMany(t, resp, body, "ping-token")

	// Another check's token has its own budget.
	other := createHeartbeat(t, c, host, "other job", client.HeartbeatConfig{PeriodSec: ptr(3600)})
	status, _ := pingHTTP(t, http.MethodGet, *other.PingUrl, "")
	assert.Equal(t, http.StatusOK, status)
}

// Behind a proxy the ping URL names the configured public URL, not the address the API saw.
func TestHeartbeatPingURLUsesPublicURL(t *testing.T) {
	env := servertest.Start(t, func(d *server.Deps) { d.PublicURL = "https://secumon.example.com" })
	c := env.Client(t, env.OwnerToken)
	ck := createHeartbeat(t, c, createHost(t, c, "job-host"), "job", client.HeartbeatConfig{PeriodSec: ptr(60)})
	assert.True(t, strings.HasPrefix(*ck.PingUrl, "https://secumon.example.com/ping/hb_"), *ck.PingUrl)
	rot, err := c.RotateCheckPingTokenWithResponse(context.Background(), ck.Id, nil)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(rot.JSON200.PingUrl, "https://secumon.example.com/ping/hb_"), rot.JSON200.PingUrl)
}
