package server_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/secuaas/secumon/server/domain/access"

	"github.com/secuaas/secumon/server/platform/database"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/probes/runner/store"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

// resultsFixture runs the stack and writes results straight through the probes' batched
// writer (store.Write) and digested, at times the tests choose.
type resultsFixture struct {
	env    *servertest.Env
	c      *client.ClientWithResponses
	other  *client.ClientWithResponses // owner of a second workspace
	worker uuid.UUID
}

// newResultsFixture starts the stack; results may be written from daysBack days ago onwards.
func newResultsFixture(t *testing.T, daysBack int) resultsFixture {
	t.Helper()
	env := servertest.Start(t)
	env.NewWorkspace(t, "other")
	f := resultsFixture{
		env: env, c: env.Client(t, env.OwnerToken),
		other: env.Client(t, env.Token(t, "other", access.Owner).Token), worker: uuid.New(),
	}
	// Daily partitions (EnsurePartitions covers day-1..day+7 around the time it is given).
	now := time.Now()
	for d := daysBack; d >= 0; d -= 7 {
		require.NoError(t, database.EnsurePartitions(context.Background(), env.Pool, now.AddDate(0, 0, -d)))
	}
	return f
}

// check creates a check of type typ with cfg, a config of that type (client.NewCheckConfig).
func (f resultsFixture) check(t *testing.T, host uuid.UUID, name string, typ client.CheckType, cfg *client.CheckConfig) client.Check {
	t.Helper()
	config, err := cfg.Map()
	require.NoError(t, err)
	r, err := f.c.CreateCheckWithResponse(context.Background(), nil, client.CheckCreateBase{HostId: host, Name: name, CheckType: typ, Config: &config}.CheckCreate())
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), string(r.Body))
	return *r.JSON201
}

func (f resultsFixture) record(ck client.Check, at time.Time, status int16, latency float64) store.Record {
	return store.Record{WorkspaceID: f.env.Workspace, CheckID: ck.Id, HostID: ck.HostId, WorkerID: f.worker,
		Time: at, Status: status, LatencyMs: latency}
}

func (f resultsFixture) write(t *testing.T, recs ...store.Record) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, store.Write(ctx, f.env.Pool, recs))
	require.NoError(t, store.NewDigester(f.env.Pool, slog.New(slog.DiscardHandler)).DigestAll(ctx))
}

func resultsProblemFields(p *client.Problem) []string {
	var fields []string
	if p != nil && p.Errors != nil {
		for _, e := range *p.Errors {
			fields = append(fields, e.Field)
		}
	}
	return fields
}

func resultsProblemDetail(p *client.Problem) string {
	if p == nil || p.Detail == nil {
		return ""
	}
	return *p.Detail
}

// yesterdayAt is a fixed time of yesterday (UTC), whose partition EnsurePartitions created.
func yesterdayAt(hour int) time.Time {
	return time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1).Add(time.Duration(hour) * time.Hour)
}

func TestLatestResults(t *testing.T) {
	f := newResultsFixture(t, 0)
	ctx := context.Background()
	host := createHost(t, f.c, "web-01")
	ping := f.check(t, host.Id, "a ping", client.CheckTypePing, client.NewCheckConfig(client.PingConfig{}))
	tcp := f.check(t, host.Id, "b tcp", client.CheckTypeTcp, client.NewCheckConfig(client.TcpConfig{Port: 22}))
	never := f.check(t, host.Id, "c never", client.CheckTypeTcp, client.NewCheckConfig(client.TcpConfig{Port: 80}))
	elsewhere := f.check(t, createHost(t, f.c, "db-01").Id, "elsewhere", client.CheckTypePing, client.NewCheckConfig(client.PingConfig{}))

	// Before any result: the host has an empty list, the check a 404 that says why.
	latest, err := f.c.GetHostLatestResultsWithResponse(ctx, host.Id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, latest.StatusCode(), string(latest.Body))
	assert.JSONEq(t, `[]`, string(latest.Body))
	last, err := f.c.GetCheckLastResultWithResponse(ctx, ping.Id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, last.StatusCode())
	assert.Equal(t, "check has no result yet", resultsProblemDetail(last.ApplicationproblemJSON404))

	base := yesterdayAt(10)
	runID := uuid.New()
	older := f.record(ping, base, 0, 1.5)
	older.Output, older.Metrics = "pong 1.5ms", map[string]float64{"loss_pct": 0, "rtt_avg_ms": 1.5}
	newest := f.record(ping, base.Add(time.Minute), 2, 9.25)
	newest.ErrorMsg, newest.RunID, newest.Metrics = "timeout", runID, map[string]float64{"loss_pct": 100}
	tcpRec := f.record(tcp, base.Add(30*time.Second), 1, 3)
	tcpRec.Output = "connected in 3ms"
	f.write(t, older, tcpRec, f.record(elsewhere, base, 0, 1))
	f.write(t, newest)

	latest, err = f.c.GetHostLatestResultsWithResponse(ctx, host.Id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, latest.StatusCode(), string(latest.Body))
	got := *latest.JSON200
	require.Len(t, got, 2, "one per check that ran; %s never ran", never.Name)
	wantPing := client.CheckResult{
		CheckId: ping.Id, HostId: &host.Id, Time: base.Add(time.Minute), Status: 2, LatencyMs: 9.25,
		Output: "", ErrorMsg: "timeout", RunId: &runID, WorkerId: &f.worker, Metrics: &map[string]float64{"loss_pct": 100},
	}
	wantTCP := client.CheckResult{
		CheckId: tcp.Id, HostId: &host.Id, Time: base.Add(30 * time.Second), Status: 1, LatencyMs: 3,
		Output: "connected in 3ms", ErrorMsg: "", WorkerId: &f.worker,
	}
	assert.Equal(t, wantPing, utcResult(got[0]))
	assert.Equal(t, wantTCP, utcResult(got[1]))
	assert.NotContains(t, string(latest.Body), `"run_id":null`)
	assert.NotContains(t, string(latest.Body), elsewhere.Id.String())

	last, err = f.c.GetCheckLastResultWithResponse(ctx, ping.Id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, last.StatusCode(), string(last.Body))
	assert.Equal(t, wantPing, utcResult(*last.JSON200))

	// Unknown ids and another workspace's ids are plain 404s.
	last, err = f.c.GetCheckLastResultWithResponse(ctx, uuid.New(), nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, last.StatusCode())
	assert.Equal(t, "check not found", resultsProblemDetail(last.ApplicationproblemJSON404))
	latest, err = f.c.GetHostLatestResultsWithResponse(ctx, uuid.New(), nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, latest.StatusCode())
	latest, err = f.other.GetHostLatestResultsWithResponse(ctx, host.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, latest.StatusCode())
	last, err = f.other.GetCheckLastResultWithResponse(ctx, ping.Id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, last.StatusCode())
	assert.Equal(t, "check not found", resultsProblemDetail(last.ApplicationproblemJSON404))
}

// utcResult puts times in UTC so that structs compare with assert.Equal.
func utcResult(r client.CheckResult) client.CheckResult {
	r.Time = r.Time.UTC()
	return r
}

// bucketPoint is the part of a MetricPoint a bucket assertion compares.
type bucketPoint struct {
	time                                   time.Time
	samples, ok, warning, critical, unknwn int
	uptime, min, avg, max                  float64
}

func bucketsOf(t *testing.T, r *client.GetCheckMetricsResponse) []bucketPoint {
	t.Helper()
	require.Equal(t, http.StatusOK, r.StatusCode(), string(r.Body))
	require.Equal(t, len(r.JSON200.Results), r.JSON200.Count)
	var out []bucketPoint
	for _, p := range r.JSON200.Results {
		require.NotNil(t, p.Samples, string(r.Body))
		assert.Nil(t, p.Status, "buckets carry counts, not a status")
		out = append(out, bucketPoint{p.Time.UTC(), *p.Samples, *p.Ok, *p.Warning, *p.Critical, *p.Unknown,
			*p.UptimePct, *p.MinLatencyMs, *p.AvgLatencyMs, *p.MaxLatencyMs})
	}
	return out
}

func TestCheckMetrics(t *testing.T) {
	f := newResultsFixture(t, 0)
	ctx := context.Background()
	host := createHost(t, f.c, "web-01")
	ck := f.check(t, host.Id, "ping web-01", client.CheckTypePing, client.NewCheckConfig(client.PingConfig{}))
	noise := f.check(t, host.Id, "ping noise", client.CheckTypePing, client.NewCheckConfig(client.PingConfig{}))

	base := yesterdayAt(10) // hour-aligned; everything below stays within yesterday
	at := func(d time.Duration) time.Time { return base.Add(d) }
	f.write(t,
		f.record(ck, at(0), 0, 10),
		f.record(ck, at(30*time.Second), 1, 20),
		f.record(ck, at(70*time.Second), 0, 30),
		f.record(ck, at(4*time.Minute+50*time.Second), 2, 40),
		f.record(ck, at(5*time.Minute), 0, 50),
		f.record(ck, at(7*time.Minute), 3, 60),
		f.record(ck, at(61*time.Minute), 0, 70),
		f.record(ck, at(62*time.Minute), 0, 80),
		f.record(noise, at(time.Minute), 2, 999),
	)
	metrics := func(from, to time.Time, g client.GetCheckMetricsParamsGranularity) *client.GetCheckMetricsResponse {
		t.Helper()
		r, err := f.c.GetCheckMetricsWithResponse(ctx, &client.GetCheckMetricsParams{CheckId: ck.Id, From: &from, To: &to, Granularity: &g})
		require.NoError(t, err)
		return r
	}

	t.Run("raw", func(t *testing.T) {
		r := metrics(at(0), at(time.Hour), client.GetCheckMetricsParamsGranularityRaw)
		require.Equal(t, http.StatusOK, r.StatusCode(), string(r.Body))
		m := r.JSON200
		assert.Equal(t, ck.Id, m.CheckId)
		assert.Equal(t, client.CheckMetricsGranularityRaw, m.Granularity)
		assert.True(t, m.From.Equal(at(0)), "from echoed: %s", m.From)
		assert.True(t, m.To.Equal(at(time.Hour)), "to echoed: %s", m.To)
		require.Equal(t, 6, m.Count)
		require.Len(t, m.Results, 6)
		wantTimes := []time.Duration{0, 30 * time.Second, 70 * time.Second, 4*time.Minute + 50*time.Second, 5 * time.Minute, 7 * time.Minute}
		wantStatus := []client.CheckStatus{0, 1, 0, 2, 0, 3}
		for i, p := range m.Results {
			assert.True(t, p.Time.Equal(at(wantTimes[i])), "point %d at %s", i, p.Time)
			require.NotNil(t, p.Status)
			assert.Equal(t, wantStatus[i], *p.Status)
			require.NotNil(t, p.LatencyMs)
			assert.Equal(t, float64(10*(i+1)), *p.LatencyMs)
			assert.Nil(t, p.Samples, "raw points carry no bucket counts")
		}
		// The window is half-open: a result at `to` is not in it.
		r = metrics(at(0), at(5*time.Minute), client.GetCheckMetricsParamsGranularityRaw)
		require.Equal(t, http.StatusOK, r.StatusCode(), string(r.Body))
		assert.Equal(t, 4, r.JSON200.Count)
	})

	t.Run("1min", func(t *testing.T) {
		got := bucketsOf(t, metrics(at(0), at(10*time.Minute), client.GetCheckMetricsParamsGranularity1Min))
		assert.Equal(t, []bucketPoint{
			{at(0), 2, 1, 1, 0, 0, 50, 10, 15, 20},
			{at(time.Minute), 1, 1, 0, 0, 0, 100, 30, 30, 30},
			{at(4 * time.Minute), 1, 0, 0, 1, 0, 0, 40, 40, 40},
			{at(5 * time.Minute), 1, 1, 0, 0, 0, 100, 50, 50, 50},
			{at(7 * time.Minute), 1, 0, 0, 0, 1, 0, 60, 60, 60},
		}, got)
		got = bucketsOf(t, metrics(at(0), at(5*time.Minute), client.GetCheckMetricsParamsGranularity1Min))
		assert.Len(t, got, 3, "the minute starting at `to` is outside")
	})

	t.Run("5min", func(t *testing.T) {
		first := bucketPoint{at(0), 4, 2, 1, 1, 0, 50, 10, 25, 40}
		second := bucketPoint{at(5 * time.Minute), 2, 1, 0, 0, 1, 50, 50, 55, 60}
		third := bucketPoint{at(time.Hour), 2, 2, 0, 0, 0, 100, 70, 75, 80}
		r := metrics(at(0), at(2*time.Hour), client.GetCheckMetricsParamsGranularity5Min)
		assert.Equal(t, []bucketPoint{first, second, third}, bucketsOf(t, r))
		assert.Equal(t, client.CheckMetricsGranularity5Min, r.JSON200.Granularity)
		// Buckets overlapping an unaligned window come whole.
		assert.Equal(t, []bucketPoint{first, second}, bucketsOf(t, metrics(at(2*time.Minute), at(6*time.Minute), client.GetCheckMetricsParamsGranularity5Min)))
		assert.Equal(t, []bucketPoint{first}, bucketsOf(t, metrics(at(0), at(5*time.Minute), client.GetCheckMetricsParamsGranularity5Min)))
	})

	t.Run("1h", func(t *testing.T) {
		want := []bucketPoint{
			{at(0), 6, 3, 1, 1, 1, 50, 10, 35, 60},
			{at(time.Hour), 2, 2, 0, 0, 0, 100, 70, 75, 80},
		}
		assert.Equal(t, want, bucketsOf(t, metrics(at(0), at(2*time.Hour), client.GetCheckMetricsParamsGranularity1Hour)))
		assert.Equal(t, want, bucketsOf(t, metrics(at(30*time.Minute), at(90*time.Minute), client.GetCheckMetricsParamsGranularity1Hour)))
		assert.Equal(t, want[:1], bucketsOf(t, metrics(at(0), at(time.Hour), client.GetCheckMetricsParamsGranularity1Hour)))
	})

	t.Run("1d", func(t *testing.T) {
		day := base.Truncate(24 * time.Hour)
		assert.Equal(t, []bucketPoint{{day, 8, 5, 1, 1, 1, 62.5, 10, 45, 80}},
			bucketsOf(t, metrics(at(0), at(2*time.Hour), client.GetCheckMetricsParamsGranularity1Day)))
	})

	t.Run("default window and granularity", func(t *testing.T) {
		recent := f.check(t, host.Id, "ping recent", client.CheckTypePing, client.NewCheckConfig(client.PingConfig{}))
		now := time.Now().UTC().Truncate(time.Second)
		f.write(t, f.record(recent, now.Add(-20*time.Minute), 0, 4), f.record(recent, now.Add(-70*time.Minute), 0, 5))
		r, err := f.c.GetCheckMetricsWithResponse(ctx, &client.GetCheckMetricsParams{CheckId: recent.Id})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.StatusCode(), string(r.Body))
		m := r.JSON200
		assert.Equal(t, client.CheckMetricsGranularityRaw, m.Granularity)
		assert.Equal(t, time.Hour, m.To.Sub(m.From))
		assert.WithinDuration(t, time.Now(), m.To, 5*time.Second)
		require.Equal(t, 1, m.Count, string(r.Body))
		assert.True(t, m.Results[0].Time.Equal(now.Add(-20*time.Minute)))
		assert.Equal(t, 4.0, *m.Results[0].LatencyMs)
	})

	t.Run("raw is capped at 10000 results", func(t *testing.T) {
		busy := f.check(t, host.Id, "ping busy", client.CheckTypePing, client.NewCheckConfig(client.PingConfig{}))
		start := yesterdayAt(12)
		recs := make([]store.Record, 10_001)
		for i := range recs {
			recs[i] = f.record(busy, start.Add(time.Duration(i)*time.Second), int16(i%2), 1)
		}
		f.write(t, recs...)
		get := func(to time.Time, g client.GetCheckMetricsParamsGranularity) *client.GetCheckMetricsResponse {
			r, err := f.c.GetCheckMetricsWithResponse(ctx, &client.GetCheckMetricsParams{CheckId: busy.Id, From: &start, To: &to, Granularity: &g})
			require.NoError(t, err)
			return r
		}
		r := get(start.Add(10_000*time.Second), client.GetCheckMetricsParamsGranularityRaw)
		require.Equal(t, http.StatusOK, r.StatusCode())
		assert.Equal(t, 10_000, r.JSON200.Count)
		r = get(start.Add(10_001*time.Second), client.GetCheckMetricsParamsGranularityRaw)
		require.Equal(t, http.StatusBadRequest, r.StatusCode(), string(r.Body))
		assert.Equal(t, []string{"granularity"}, resultsProblemFields(r.ApplicationproblemJSON400))
		assert.Contains(t, resultsProblemDetail(r.ApplicationproblemJSON400), "coarser granularity")
		// The rollups hold the same results.
		buckets := bucketsOf(t, get(start.Add(10_001*time.Second), client.GetCheckMetricsParamsGranularity1Min))
		require.Len(t, buckets, 167)
		total := 0
		for _, b := range buckets {
			total += b.samples
		}
		assert.Equal(t, 10_001, total)
		assert.Equal(t, 41, buckets[166].samples)
	})

	t.Run("errors", func(t *testing.T) {
		from, to := at(time.Hour), at(time.Hour)
		r, err := f.c.GetCheckMetricsWithResponse(ctx, &client.GetCheckMetricsParams{CheckId: ck.Id, From: &from, To: &to})
		require.NoError(t, err)
		require.Equal(t, http.StatusBadRequest, r.StatusCode(), string(r.Body))
		assert.Equal(t, []string{"from"}, resultsProblemFields(r.ApplicationproblemJSON400))
		to = at(0)
		r, err = f.c.GetCheckMetricsWithResponse(ctx, &client.GetCheckMetricsParams{CheckId: ck.Id, From: &from, To: &to})
		require.NoError(t, err)
		require.Equal(t, http.StatusBadRequest, r.StatusCode(), string(r.Body))
		assert.Equal(t, []string{"from"}, resultsProblemFields(r.ApplicationproblemJSON400))

		resp, p := call(t, f.env, "GET", "/api/v2/metrics/checks?check_id="+ck.Id.String()+"&granularity=2min", f.env.OwnerToken, "")
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Contains(t, fieldsOf(p), "granularity")
		resp, p = call(t, f.env, "GET", "/api/v2/metrics/checks", f.env.OwnerToken, "")
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Contains(t, fieldsOf(p), "check_id")

		r, err = f.c.GetCheckMetricsWithResponse(ctx, &client.GetCheckMetricsParams{CheckId: uuid.New()})
		require.NoError(t, err)
		assert.Equal(t, http.StatusNotFound, r.StatusCode())
		r, err = f.other.GetCheckMetricsWithResponse(ctx, &client.GetCheckMetricsParams{CheckId: ck.Id})
		require.NoError(t, err)
		assert.Equal(t, http.StatusNotFound, r.StatusCode())
	})
}

func TestHostUptime(t *testing.T) {
	f := newResultsFixture(t, 42)
	ctx := context.Background()
	host := createHost(t, f.c, "web-01")
	p1 := f.check(t, host.Id, "ping 1", client.CheckTypePing, client.NewCheckConfig(client.PingConfig{}))
	p2 := f.check(t, host.Id, "ping 2", client.CheckTypePing, client.NewCheckConfig(client.PingConfig{}))
	tcp := f.check(t, host.Id, "tcp", client.CheckTypeTcp, client.NewCheckConfig(client.TcpConfig{Port: 22}))
	otherHost := createHost(t, f.c, "db-01")
	otherPing := f.check(t, otherHost.Id, "ping db", client.CheckTypePing, client.NewCheckConfig(client.PingConfig{}))
	quiet := createHost(t, f.c, "quiet")

	now := time.Now().UTC()
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	const day = 24 * time.Hour
	f.write(t,
		// Last 24 h: 4 results, 3 OK.
		f.record(p1, ago(2*time.Hour), 0, 1), f.record(p1, ago(2*time.Hour-time.Minute), 0, 1),
		f.record(p1, ago(2*time.Hour-2*time.Minute), 2, 0), f.record(p2, ago(5*time.Hour), 0, 1),
		// 26 h ago: outside 24 h (and its hourly bucket too), inside 7 d.
		f.record(p1, ago(26*time.Hour), 2, 0), f.record(p1, ago(26*time.Hour-time.Minute), 2, 0),
		// 3 days ago: 4 results, 1 OK.
		f.record(p1, ago(3*day), 0, 1), f.record(p1, ago(3*day-time.Minute), 2, 0),
		f.record(p1, ago(3*day-2*time.Minute), 2, 0), f.record(p1, ago(3*day-3*time.Minute), 1, 0),
		// 20 days ago: 2 OK.
		f.record(p2, ago(20*day), 0, 1), f.record(p2, ago(20*day-time.Minute), 0, 1),
		// 40 days ago: outside every window.
		f.record(p1, ago(40*day), 2, 0), f.record(p1, ago(40*day-time.Minute), 2, 0),
		// Not ping, or not this host: never counted.
		f.record(tcp, ago(time.Hour), 2, 0), f.record(otherPing, ago(time.Hour), 2, 0),
	)
	uptime := func(c *client.ClientWithResponses, id uuid.UUID, w *client.GetHostUptimeParamsWindow) *client.GetHostUptimeResponse {
		t.Helper()
		r, err := c.GetHostUptimeWithResponse(ctx, id, &client.GetHostUptimeParams{Window: w})
		require.NoError(t, err)
		return r
	}
	for _, tc := range []struct {
		name    string
		window  *client.GetHostUptimeParamsWindow
		echo    client.UptimeWindow
		samples int
		pct     float64
	}{
		{"default", nil, client.UptimeWindow24Hours, 4, 75},
		{"24h", ptr(client.GetHostUptimeParamsWindow24Hours), client.UptimeWindow24Hours, 4, 75},
		{"7d", ptr(client.GetHostUptimeParamsWindow7Days), client.UptimeWindow7Days, 10, 40},
		{"30d", ptr(client.GetHostUptimeParamsWindow30Days), client.UptimeWindow30Days, 12, 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := uptime(f.c, host.Id, tc.window)
			require.Equal(t, http.StatusOK, r.StatusCode(), string(r.Body))
			assert.Equal(t, client.Uptime{UptimePct: tc.pct, Samples: tc.samples, Window: tc.echo}, *r.JSON200)
		})
	}

	r := uptime(f.c, quiet.Id, ptr(client.GetHostUptimeParamsWindow30Days))
	require.Equal(t, http.StatusOK, r.StatusCode(), string(r.Body))
	assert.Equal(t, client.Uptime{UptimePct: 100, Samples: 0, Window: client.UptimeWindow30Days}, *r.JSON200)

	assert.Equal(t, http.StatusNotFound, uptime(f.c, uuid.New(), nil).StatusCode())
	assert.Equal(t, http.StatusNotFound, uptime(f.other, host.Id, nil).StatusCode())
	resp, p := call(t, f.env, "GET", "/api/v2/hosts/"+host.Id.String()+"/uptime?window=1y", f.env.OwnerToken, "")
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, fieldsOf(p), "window")
}

func TestHostSnmpMetrics(t *testing.T) {
	f := newResultsFixture(t, 0)
	ctx := context.Background()
	host := createHost(t, f.c, "switch-01")
	a := f.check(t, host.Id, "snmp a", client.CheckTypeSnmp, client.NewCheckConfig(client.SnmpConfig{Community: client.Ptr("public")}))
	b := f.check(t, host.Id, "snmp b", client.CheckTypeSnmp, client.NewCheckConfig(client.SnmpConfig{Community: client.Ptr("public")}))
	f.check(t, host.Id, "ping switch", client.CheckTypePing, client.NewCheckConfig(client.PingConfig{}))

	now := time.Now().UTC().Truncate(time.Second)
	sample := func(at time.Time, uptime, octets float64) store.Record {
		r := f.record(a, at, 0, 2)
		r.Samples = []store.Sample{
			{OID: "1.3.6.1.2.1.31.1.1.1.6", Name: "ifHCInOctets", Instance: "lo", Value: octets},
			{OID: "1.3.6.1.2.1.1.3.0", Name: "sysUpTime", Value: uptime},
		}
		return r
	}
	f.write(t, sample(now.Add(-7*time.Hour), 1, 0.5), sample(now.Add(-time.Hour), 100, 12.5))
	f.write(t, sample(now.Add(-30*time.Minute), 200, 25))

	type pt struct {
		time           time.Time
		oid, name, ins string
		value          float64
	}
	series := func(r *client.GetHostSnmpMetricsResponse) map[string][]pt {
		t.Helper()
		require.Equal(t, http.StatusOK, r.StatusCode(), string(r.Body))
		out := map[string][]pt{}
		var names []string
		for _, s := range r.JSON200.Checks {
			names = append(names, s.CheckName)
			require.NotNil(t, s.Points, "points is [] rather than null")
			pts := []pt{}
			for _, p := range s.Points {
				require.NotNil(t, p.Name)
				x := pt{p.Time.UTC(), p.Oid, *p.Name, "", p.Value}
				if p.Instance != nil {
					require.NotEmpty(t, *p.Instance, "an empty instance is omitted")
					x.ins = *p.Instance
				}
				pts = append(pts, x)
			}
			out[s.CheckId.String()] = pts
		}
		assert.Equal(t, []string{"snmp a", "snmp b"}, names, "snmp checks only, by name")
		return out
	}
	up := func(at time.Time, v float64) pt { return pt{at, "1.3.6.1.2.1.1.3.0", "sysUpTime", "", v} }
	oct := func(at time.Time, v float64) pt { return pt{at, "1.3.6.1.2.1.31.1.1.1.6", "ifHCInOctets", "lo", v} }

	// Default window: the last 6 hours.
	r, err := f.c.GetHostSnmpMetricsWithResponse(ctx, host.Id, nil)
	require.NoError(t, err)
	got := series(r)
	assert.Equal(t, []pt{
		up(now.Add(-time.Hour), 100), oct(now.Add(-time.Hour), 12.5),
		up(now.Add(-30*time.Minute), 200), oct(now.Add(-30*time.Minute), 25),
	}, got[a.Id.String()])
	assert.Equal(t, []pt{}, got[b.Id.String()])
	assert.Contains(t, string(r.Body), `"points":[]`)

	from, to := now.Add(-8*time.Hour), now.Add(-45*time.Minute)
	r, err = f.c.GetHostSnmpMetricsWithResponse(ctx, host.Id, &client.GetHostSnmpMetricsParams{From: &from, To: &to})
	require.NoError(t, err)
	assert.Equal(t, []pt{
		up(now.Add(-7*time.Hour), 1), oct(now.Add(-7*time.Hour), 0.5),
		up(now.Add(-time.Hour), 100), oct(now.Add(-time.Hour), 12.5),
	}, series(r)[a.Id.String()])

	// A series longer than 10000 points keeps its newest 10000, oldest first.
	big := createHost(t, f.c, "core-01")
	busy := f.check(t, big.Id, "snmp busy", client.CheckTypeSnmp, client.NewCheckConfig(client.SnmpConfig{Community: client.Ptr("public")}))
	start := now.Add(-3 * time.Hour)
	recs := make([]store.Record, 5_001)
	for i := range recs {
		recs[i] = f.record(busy, start.Add(time.Duration(i)*time.Second), 0, 1)
		recs[i].Samples = []store.Sample{{OID: "1.1", Name: "x", Value: float64(i)}, {OID: "1.2", Name: "y", Value: float64(i)}}
	}
	f.write(t, recs...)
	br, err := f.c.GetHostSnmpMetricsWithResponse(ctx, big.Id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, br.StatusCode())
	require.Len(t, br.JSON200.Checks, 1)
	pts := br.JSON200.Checks[0].Points
	require.Len(t, pts, 10_000)
	assert.True(t, pts[0].Time.Equal(start.Add(time.Second)), "oldest kept: %s", pts[0].Time)
	assert.Equal(t, "1.1", pts[0].Oid)
	assert.True(t, pts[len(pts)-1].Time.Equal(start.Add(5_000*time.Second)))
	assert.Equal(t, "1.2", pts[len(pts)-1].Oid)

	// Bad windows name `from`; unknown and foreign hosts are 404.
	for name, w := range map[string][2]time.Time{
		"from after to": {now, now.Add(-time.Hour)},
		"empty":         {now, now},
		"over 31 days":  {now.Add(-32 * 24 * time.Hour), now},
	} {
		r, err := f.c.GetHostSnmpMetricsWithResponse(ctx, host.Id, &client.GetHostSnmpMetricsParams{From: &w[0], To: &w[1]})
		require.NoError(t, err)
		require.Equal(t, http.StatusBadRequest, r.StatusCode(), name)
		assert.Equal(t, []string{"from"}, resultsProblemFields(r.ApplicationproblemJSON400), name)
	}
	r31 := now.Add(-31 * 24 * time.Hour)
	r, err = f.c.GetHostSnmpMetricsWithResponse(ctx, host.Id, &client.GetHostSnmpMetricsParams{From: &r31, To: &now})
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, r.StatusCode(), "exactly 31 days is allowed")
	r, err = f.c.GetHostSnmpMetricsWithResponse(ctx, uuid.New(), nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, r.StatusCode())
	r, err = f.other.GetHostSnmpMetricsWithResponse(ctx, host.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, r.StatusCode())
}

func TestSnmpDevices(t *testing.T) {
	f := newResultsFixture(t, 0)
	ctx := context.Background()
	hr, err := f.c.CreateHostWithResponse(ctx, nil, client.HostCreate{Name: "switch-01", Hostname: "127.0.0.3"})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, hr.StatusCode(), string(hr.Body))
	host := *hr.JSON201
	withTarget := f.check(t, host.Id, "snmp a", client.CheckTypeSnmp, client.NewCheckConfig(client.SnmpConfig{Host: client.Ptr("127.0.0.2"), Community: client.Ptr("public")}))
	silent := f.check(t, host.Id, "snmp b", client.CheckTypeSnmp, client.NewCheckConfig(client.SnmpConfig{Community: client.Ptr("public")}))
	f.check(t, host.Id, "ping switch", client.CheckTypePing, client.NewCheckConfig(client.PingConfig{}))

	seen := yesterdayAt(9)
	first := f.record(withTarget, seen, 0, 2)
	first.Facts = map[string]string{"sysDescr": "Linux switch 6.1", "sysName": "sw-01"}
	first.Metrics = map[string]float64{"sysUpTime": 4242, "ifHCInOctets.lo": 12.5}
	f.write(t, first)

	list := func(c *client.ClientWithResponses) *client.ListSnmpDevicesResponse {
		t.Helper()
		r, err := c.ListSnmpDevicesWithResponse(ctx, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.StatusCode(), string(r.Body))
		return r
	}
	r := list(f.c)
	devices := *r.JSON200
	require.Len(t, devices, 2, "snmp checks only")
	d := devices[0]
	assert.Equal(t, withTarget.Id, d.Id)
	assert.Equal(t, host.Id, d.HostId)
	assert.Equal(t, "snmp a", d.Name)
	assert.Equal(t, "127.0.0.2", d.Hostname, "the config's host wins")
	require.NotNil(t, d.SysDescr)
	assert.Equal(t, "Linux switch 6.1", *d.SysDescr)
	require.NotNil(t, d.SysName)
	assert.Equal(t, "sw-01", *d.SysName)
	require.NotNil(t, d.LastSeen)
	assert.True(t, d.LastSeen.Equal(seen))
	assert.Equal(t, map[string]float64{"sysUpTime": 4242, "ifHCInOctets.lo": 12.5}, d.Metrics)

	s := devices[1]
	assert.Equal(t, silent.Id, s.Id)
	assert.Equal(t, "127.0.0.3", s.Hostname, "no host in the config: the host's hostname")
	assert.Nil(t, s.SysDescr)
	assert.Nil(t, s.SysName)
	assert.Nil(t, s.LastSeen)
	assert.Equal(t, map[string]float64{}, s.Metrics)
	assert.Contains(t, string(r.Body), `"metrics":{}`)

	// A later result without facts keeps the facts and replaces the metrics.
	next := f.record(withTarget, seen.Add(time.Minute), 0, 2)
	next.Metrics = map[string]float64{"sysUpTime": 4302}
	f.write(t, next)
	d = (*list(f.c).JSON200)[0]
	assert.True(t, d.LastSeen.Equal(seen.Add(time.Minute)))
	assert.Equal(t, map[string]float64{"sysUpTime": 4302}, d.Metrics)
	require.NotNil(t, d.SysName)
	assert.Equal(t, "sw-01", *d.SysName)

	assert.JSONEq(t, `[]`, string(list(f.other).Body), "another workspace sees none")
}
