package server_test

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/probes"
	"github.com/secuaas/secumon/probes/runner/worker"
	"github.com/secuaas/secumon/probes/snmpdtest"
	"github.com/secuaas/secumon/server"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

// The whole loop with real parts: checks created through the API are run by a worker
// (real ICMP to 127.0.0.1, a real snmpd on loopback), written, digested, and read back
// through every results endpoint.
func TestRunnerEndToEnd(t *testing.T) {
	snmpPort := snmpdtest.Start(t)
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	privileged := os.Geteuid() == 0
	servertest.Run(t, server.Deps{Pool: env.Pool, Worker: &worker.Options{Name: "e2e", Location: "loopback", PollEvery: 50 * time.Millisecond,
		Runner: probes.NewRunner(probes.Options{Privileged: &privileged})}})

	h, err := c.CreateHostWithResponse(ctx, nil, client.HostCreate{Name: "loopback", Hostname: "127.0.0.1"})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, h.StatusCode(), string(h.Body))
	host := h.JSON201.Id

	create := func(body client.CheckCreate) client.Check {
		r, err := c.CreateCheckWithResponse(ctx, nil, body)

		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, r.StatusCode(), string(r.Body))
		return *r.JSON201
	}
	ping := create(client.NewCheckCreate(client.PingCheckCreate{HostId: host, Name: "ping", IntervalSec: ptr(10), TimeoutSec: ptr(5),
		Config: &client.PingConfig{Count: ptr(2), IntervalMs: ptr(100)}}))
	snmp := create(client.NewCheckCreate(client.SnmpCheckCreate{HostId: host, Name: "snmp", IntervalSec: ptr(10), TimeoutSec: ptr(5),
		Config: &client.SnmpConfig{Port: ptr(snmpPort), Community: ptr(snmpdtest.Community)}}))

	// Run-now: queued through River, run by the worker, its result carries the run id.
	run, err := c.RunCheckWithResponse(ctx, ping.Id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, run.StatusCode(), string(run.Body))
	eventually(t, 20*time.Second, func() bool {
		r, err := c.GetCheckLastResultWithResponse(ctx, ping.Id, nil)
		return err == nil && r.JSON200 != nil && r.JSON200.RunId != nil && *r.JSON200.RunId == run.JSON202.RunId
	}, "the run-now result")
	last, err := c.GetCheckLastResultWithResponse(ctx, ping.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, client.CheckStatus(0), last.JSON200.Status, "ping 127.0.0.1: %s %v", last.JSON200.Output, last.JSON200.ErrorMsg)
	// The check shows when it last ran (its schedules' latest run) and runs next.
	assert.Nil(t, ping.LastRunAt, "a new check has not run")
	got, err := c.GetCheckWithResponse(ctx, ping.Id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, got.StatusCode(), string(got.Body))
	require.NotNil(t, got.JSON200.LastRunAt, "last_run_at after a run")
	assert.False(t, got.JSON200.LastRunAt.Before(last.JSON200.Time), "last_run_at %s is the latest run (%s)", got.JSON200.LastRunAt, last.JSON200.Time)
	assert.WithinDuration(t, last.JSON200.Time, *got.JSON200.LastRunAt, 11*time.Second)
	require.NotNil(t, got.JSON200.NextRunAt)
	assert.True(t, got.JSON200.NextRunAt.After(*got.JSON200.LastRunAt), "next_run_at comes after last_run_at")

	// Two SNMP runs, so that counters become rates.
	for range 2 {
		r, err := c.RunCheckWithResponse(ctx, snmp.Id, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusAccepted, r.StatusCode())
		want := r.JSON202.RunId
		eventually(t, 20*time.Second, func() bool {
			r, err := c.GetCheckLastResultWithResponse(ctx, snmp.Id, nil)
			return err == nil && r.JSON200 != nil && r.JSON200.RunId != nil && *r.JSON200.RunId == want
		}, "an SNMP run")
	}

	latest, err := c.GetHostLatestResultsWithResponse(ctx, host, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, latest.StatusCode(), string(latest.Body))
	assert.Contains(t, string(latest.Body), ping.Id.String())
	assert.Contains(t, string(latest.Body), snmp.Id.String())

	from, to := time.Now().Add(-time.Hour), time.Now().Add(time.Minute)
	g := client.GetCheckMetricsParamsGranularity1Min
	m, err := c.GetCheckMetricsWithResponse(ctx, &client.GetCheckMetricsParams{CheckId: ping.Id, From: &from, To: &to, Granularity: &g})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, m.StatusCode(), string(m.Body))
	assert.NotEmpty(t, m.JSON200.Results, "1-minute rollups of the ping runs")

	window := client.GetHostUptimeParamsWindow24Hours
	up, err := c.GetHostUptimeWithResponse(ctx, host, &client.GetHostUptimeParams{Window: &window})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, up.StatusCode(), string(up.Body))
	assert.GreaterOrEqual(t, up.JSON200.Samples, 1)
	assert.InDelta(t, 100, up.JSON200.UptimePct, 0.001)

	sm, err := c.GetHostSnmpMetricsWithResponse(ctx, host, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, sm.StatusCode(), string(sm.Body))
	require.Len(t, sm.JSON200.Checks, 1)
	assert.Equal(t, snmp.Id, sm.JSON200.Checks[0].CheckId)
	assert.NotEmpty(t, sm.JSON200.Checks[0].Points, "interface rates and SNMP values")

	devs, err := c.ListSnmpDevicesWithResponse(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, devs.StatusCode(), string(devs.Body))
	require.Len(t, *devs.JSON200, 1)
	dev := (*devs.JSON200)[0]
	assert.Equal(t, snmp.Id, dev.Id)
	require.NotNil(t, dev.SysName)
	assert.Equal(t, snmpdtest.SysName, *dev.SysName)
	assert.NotEmpty(t, dev.Metrics)

	workers, err := c.ListWorkersWithResponse(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, workers.StatusCode(), string(workers.Body))
	assert.Contains(t, string(workers.Body), `"e2e"`)
}

func eventually(t *testing.T, within time.Duration, ok func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s", what, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
