package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/secuaas/secumon/server/platform/database"

	"github.com/google/uuid"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/probes/runner/store"
	"github.com/secuaas/secumon/server"
)

const (
	metricsDays     = 30
	metricsBatch    = 5_000
	metricsRequests = 200
	metricsTarget   = 50 * time.Millisecond
)

// BenchmarkMetrics1h30d times GET /api/v2/metrics/checks at 1h granularity over 30 days of
// 1-minute results of one check (43,200 results, written through store.Write and digested
// so the rollups fill as in production), through the full stack, sequentially.
func BenchmarkMetrics1h30d(b *testing.B) {
	ctx := context.Background()
	d := newBenchDB(b)
	pool, q, token := d.pool, d.q, d.token
	host := d.addHost(b, "bench-host")
	check := uuid.New()
	if _, err := q.CreateCheck(ctx, db.CreateCheckParams{WorkspaceID: d.ws, ID: check, HostID: host, Name: "bench-ping",
		CheckType: "ping", Config: []byte(`{}`), IntervalSec: 60, TimeoutSec: 10, FailureThreshold: 2, Enabled: true}); err != nil {
		b.Fatal(err)
	}

	now := time.Now().UTC().Truncate(time.Minute)
	start := now.AddDate(0, 0, -metricsDays)
	for d := metricsDays + 1; d >= 0; d -= 7 { // EnsurePartitions covers day-1..day+7
		if err := database.EnsurePartitions(ctx, pool, now.AddDate(0, 0, -d)); err != nil {
			b.Fatal(err)
		}
	}
	total := metricsDays * 24 * 60
	fill := time.Now()
	batch := make([]store.Record, 0, metricsBatch)
	for i := range total {
		status := int16(0)
		if i%97 == 0 {
			status = 2
		}
		batch = append(batch, store.Record{WorkspaceID: d.ws, CheckID: check, HostID: host,
			Time: start.Add(time.Duration(i) * time.Minute), Status: status, LatencyMs: float64(1 + i%13),
			Output: "pong", Metrics: map[string]float64{"loss_pct": 0}})
		if len(batch) == metricsBatch || i == total-1 {
			if err := store.Write(ctx, pool, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := store.NewDigester(pool, benchLog()).DigestAll(ctx); err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(os.Stdout, "filled and digested %d results (30 days of 1-minute data) in %s\n", total, time.Since(fill).Round(time.Millisecond))
	if _, err := pool.Exec(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}

	svc, err := server.Build(ctx, server.Deps{Pool: pool, Logger: slog.New(slog.DiscardHandler), Serve: true})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(svc)
	defer srv.Close()
	u := srv.URL + "/api/v2/metrics/checks?" + url.Values{
		"check_id": {check.String()}, "granularity": {"1h"},
		"from": {start.Format(time.RFC3339)}, "to": {now.Format(time.RFC3339)},
	}.Encode()
	client := &http.Client{Timeout: 10 * time.Second}
	get := func() (time.Duration, error) {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		var body struct {
			Count   int `json:"count"`
			Results []struct {
				Samples int `json:"samples"`
			} `json:"results"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		elapsed := time.Since(t0)
		if err != nil {
			return 0, err
		}
		samples := 0
		for _, r := range body.Results {
			samples += r.Samples
		}
		// 30 days of hourly buckets; from and to are minute-aligned, so 720 or 721 buckets.
		if resp.StatusCode != http.StatusOK || body.Count < 720 || samples != total {
			return 0, fmt.Errorf("status %d, %d buckets, %d samples", resp.StatusCode, body.Count, samples)
		}
		return elapsed, nil
	}

	for range 10 { // warm connections and caches
		if _, err := get(); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		times := make([]time.Duration, 0, metricsRequests)
		for range metricsRequests {
			d, err := get()
			if err != nil {
				b.Fatal(err)
			}
			times = append(times, d)
		}
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		p50, p99 := times[len(times)/2], times[len(times)*99/100]
		verdict := "met"
		if p50 >= metricsTarget {
			verdict = "MISSED"
		}
		fmt.Fprintf(os.Stdout, "GET /api/v2/metrics/checks granularity=1h over 30 days (%d results), %d sequential requests: p50 %.2f ms  p99 %.2f ms  (target p50 < %d ms: %s)\n",
			total, metricsRequests, ms(p50), ms(p99), metricsTarget.Milliseconds(), verdict)
		b.ReportMetric(ms(p50), "p50-ms")
		b.ReportMetric(ms(p99), "p99-ms")
	}
}
