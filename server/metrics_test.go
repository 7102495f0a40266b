package server_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/probes/runner/worker"
	"github.com/secuaas/secumon/server"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

// /metrics on its own listener, through the real stack: API requests counted by route template
// and status, a scheduled HTTP check run to completion (runs, scheduler lag, results written,
// digest lag), the job queues' depths, open event streams, and nothing else served there.
func TestMetrics(t *testing.T) {
	ln, metricsURL := metricsListener(t)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	defer target.Close()

	env := servertest.Start(t, func(d *server.Deps) {
		d.Metrics = ln
		d.Worker = &worker.Options{Name: "metrics", Location: "loopback", PollEvery: 50 * time.Millisecond}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- env.App.Run(runCtx) }()
	defer func() {
		stop()
		require.NoError(t, <-done)
		_, err := http.Get(metricsURL + "/metrics")
		assert.Error(t, err, "the metrics listener closes with the app")
	}()
	c := env.Client(t, env.OwnerToken)

	// A scheduled HTTP check against a loopback target, run to completion.
	host := createHost(t, c, "metrics-target")
	ck, err := c.CreateCheckWithResponse(ctx, nil, client.NewCheckCreate(client.HttpCheckCreate{
		HostId: host.Id, Name: "target", IntervalSec: ptr(60), Config: client.HttpConfig{URL: target.URL},
	}))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, ck.StatusCode(), string(ck.Body))
	eventually(t, 20*time.Second, func() bool {
		r, err := c.GetCheckLastResultWithResponse(ctx, ck.JSON201.Id, nil)
		return err == nil && r.JSON200 != nil
	}, "the check's result")

	// A 200 and a 404 on the same route; unknown paths under and outside the API.
	ok, err := c.GetHostWithResponse(ctx, host.Id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, ok.StatusCode())
	missing, err := c.GetHostWithResponse(ctx, uuid.New(), nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, missing.StatusCode())
	for _, p := range []string{"/api/v2/nope/" + uuid.NewString(), "/api/v2/nope/" + uuid.NewString(), "/nope/" + uuid.NewString()} {
		resp, _ := call(t, env, http.MethodGet, p, env.OwnerToken, "")
		require.Equal(t, http.StatusNotFound, resp.StatusCode, p)
	}

	// An open event stream is counted while it is open.
	streamCtx, closeStream := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(streamCtx, http.MethodGet, env.URL+"/api/v2/events", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+env.OwnerToken)
	stream, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, stream.StatusCode)
	_, err = bufio.NewReader(stream.Body).ReadString('\n') // the stream has started
	require.NoError(t, err)

	var fams map[string]*dto.MetricFamily
	eventually(t, 20*time.Second, func() bool {
		fams = scrape(t, metricsURL)
		return sample(fams, "secumon_digest_lag_seconds", nil) >= 1 &&
			sample(fams, "secumon_queue_jobs", map[string]string{"queue": "notifications", "state": "available"}) >= 0
	}, "the digest lag and the queue depths")

	route := "GET /api/v2/hosts/{id}"
	assert.GreaterOrEqual(t, sample(fams, "secumon_http_requests_total", map[string]string{"route": route, "code": "200"}), 1.0)
	assert.GreaterOrEqual(t, sample(fams, "secumon_http_requests_total", map[string]string{"route": route, "code": "404"}), 1.0)
	assert.GreaterOrEqual(t, sample(fams, "secumon_http_request_duration_seconds", map[string]string{"route": route}), 2.0)
	assert.GreaterOrEqual(t, sample(fams, "secumon_http_requests_total", map[string]string{"route": "POST /api/v2/checks", "code": "201"}), 1.0)
	// Unknown paths: under the API they stop at its prefix, elsewhere at the catch-all.
	assert.GreaterOrEqual(t, sample(fams, "secumon_http_requests_total", map[string]string{"route": "/api/v2/", "code": "404"}), 2.0)
	assert.GreaterOrEqual(t, sample(fams, "secumon_http_requests_total", map[string]string{"route": "/", "code": "404"}), 1.0)
	for _, m := range fams["secumon_http_requests_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "route" {
				assert.NotContains(t, l.GetValue(), "nope", "a raw path as a route label")
				assert.NotContains(t, l.GetValue(), host.Id.String(), "a raw id as a route label")
			}
		}
	}

	assert.GreaterOrEqual(t, sample(fams, "secumon_check_runs_total", map[string]string{"type": "http", "status": "OK"}), 1.0)
	assert.GreaterOrEqual(t, sample(fams, "secumon_scheduler_lag_seconds", nil), 1.0)
	assert.GreaterOrEqual(t, sample(fams, "secumon_results_written_total", nil), 1.0)
	assert.Equal(t, 1.0, sample(fams, "secumon_event_streams_open", nil))
	assert.Contains(t, fams, "go_goroutines")
	assert.Contains(t, fams, "process_cpu_seconds_total")

	closeStream()
	_ = stream.Body.Close()
	eventually(t, 10*time.Second, func() bool {
		return sample(scrape(t, metricsURL), "secumon_event_streams_open", nil) == 0
	}, "the stream's close counted")

	// The listener serves /metrics alone: no API, no docs, no health.
	for _, p := range []string{"/", "/api/v2/hosts", "/healthz", "/docs", "/metrics/x"} {
		resp, err := http.Get(metricsURL + p)
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, p)
	}
}

// metricsListener is a loopback listener for Deps.Metrics, and the URL to scrape it at.
func metricsListener(t *testing.T) (net.Listener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	return ln, "http://" + ln.Addr().String()
}

// serveMetrics adds a metrics listener to the Deps of servertest.Start and returns the
// URL to scrape; the test must run the app (runApp) for it to answer.
func serveMetrics(t *testing.T) (func(*server.Deps), string) {
	ln, url := metricsListener(t)
	return func(d *server.Deps) { d.Metrics = ln }, url
}

// runApp runs the background parts of env's app, its metrics listener among them, until the
// test ends.
func runApp(t *testing.T, env *servertest.Env) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- env.App.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
}

// scrape reads the metrics in the text exposition format.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain"), resp.Header.Get("Content-Type"))
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return fams
}

// sample is the value of the series of name with labels (a histogram's count), or -1 when
// there is none.
func sample(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	f, ok := fams[name]
	if !ok {
		return -1
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue next
			}
		}
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue()
		case dto.MetricType_GAUGE:
			return m.GetGauge().GetValue()
		case dto.MetricType_HISTOGRAM:
			return float64(m.GetHistogram().GetSampleCount())
		default:
			panic(fmt.Sprintf("%s: type %s", name, f.GetType()))
		}
	}
	return -1
}

// A worker-only process (`secumon worker --metrics-addr`) serves its metrics too: its check
// runs, and no HTTP series, since it serves no API.
func TestWorkerMetrics(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	target, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer target.Close()
	go func() {
		for {
			conn, err := target.Accept()
			if err != nil {
				return
			}
			_ = conn.Close()
		}
	}()
	ln, metricsURL := metricsListener(t)
	servertest.Run(t, server.Deps{Pool: env.Pool, Metrics: ln,
		Worker: &worker.Options{Name: "metrics-worker", PollEvery: 50 * time.Millisecond}})

	host := createHost(t, c, "tcp-target")
	_, port, _ := net.SplitHostPort(target.Addr().String())
	ck, err := c.CreateCheckWithResponse(context.Background(), nil, client.NewCheckCreate(client.TcpCheckCreate{
		HostId: host.Id, Name: "tcp", IntervalSec: ptr(60), Config: client.TcpConfig{Port: mustAtoi(t, port)},
	}))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, ck.StatusCode(), string(ck.Body))

	var fams map[string]*dto.MetricFamily
	eventually(t, 20*time.Second, func() bool {
		fams = scrape(t, metricsURL)
		return sample(fams, "secumon_check_runs_total", map[string]string{"type": "tcp", "status": "OK"}) >= 1
	}, "the worker's check run")
	assert.GreaterOrEqual(t, sample(fams, "secumon_scheduler_lag_seconds", nil), 1.0)
	assert.NotContains(t, fams, "secumon_http_requests_total")
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}
