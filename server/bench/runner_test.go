package bench

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/secuaas/secumon/server/platform/database"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/probes/runner/store"
	"github.com/secuaas/secumon/probes/runner/worker"
)

const (
	schedulerChecks   = 10_000
	schedulerInterval = 10 // seconds
	schedulerWarmup   = 20 * time.Second
	schedulerMeasure  = 60 * time.Second
	ingestRecords     = 50_000
	ingestBatch       = 1_000
)

// BenchmarkScheduler runs one worker over 10,000 HTTP checks at a 10-second interval against
// a loopback httptest target (1,000 checks/s scheduled) and compares the achieved rate with
// the scheduled one, with the process's CPU time and peak RSS. The load stops by itself.
func BenchmarkScheduler(b *testing.B) {
	ctx := context.Background()
	d := newBenchDB(b)
	pool, q, ws := d.pool, d.q, d.ws
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	defer target.Close()
	host := d.addHost(b, "target")
	config := []byte(fmt.Sprintf(`{"url":%q}`, target.URL))
	for i := range schedulerChecks {
		must(b, func() error {
			_, err := q.CreateCheck(ctx, db.CreateCheckParams{WorkspaceID: ws, ID: uuid.New(), HostID: host, Name: fmt.Sprintf("http-%05d", i),
				CheckType: "http", Config: config, IntervalSec: schedulerInterval, TimeoutSec: 5, FailureThreshold: 2, Enabled: true})
			return err
		})
	}
	runCtx, stop := context.WithCancel(ctx)
	w := worker.New(pool, worker.Options{Name: "bench", Log: benchLog()})
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(runCtx) }()

	time.Sleep(schedulerWarmup)
	cpu0, start := cpuTime(), time.Now()
	var n0, n1 int64
	countSince := func(t time.Time) (n int64) {
		must(b, func() error {
			return pool.QueryRow(ctx, "SELECT count(*) FROM check_results WHERE time >= $1", t).Scan(&n)
		})
		return n
	}
	time.Sleep(schedulerMeasure)
	end := time.Now()
	cpu := cpuTime() - cpu0
	stop()
	<-done
	n1 = countSince(start)
	n0 = countSince(end)
	achieved := float64(n1-n0) / end.Sub(start).Seconds()
	scheduled := float64(schedulerChecks) / schedulerInterval
	if os.Getenv("SECUMON_BENCH_DIAG") != "" {
		rows, _ := pool.Query(ctx, `SELECT width_bucket(extract(epoch FROM gap), 0, 30, 30) AS b, count(*) FROM (
			SELECT time - lag(time) OVER (PARTITION BY check_id ORDER BY time) AS gap FROM check_results) g
			WHERE gap IS NOT NULL GROUP BY b ORDER BY b`)
		for rows.Next() {
			var bucket, n int64
			_ = rows.Scan(&bucket, &n)
			fmt.Fprintf(os.Stdout, "  gap ~%2d s: %d\n", bucket-1, n)
		}
		rows.Close()
		var avg, p99 float64
		_ = pool.QueryRow(ctx, "SELECT avg(latency_ms), percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms) FROM check_results").Scan(&avg, &p99)
		fmt.Fprintf(os.Stdout, "  probe latency avg %.1f ms p99 %.1f ms\n", avg, p99)
		rows, _ = pool.Query(ctx, "SELECT left(output || ' ' || error_msg, 120), count(*) FROM check_results WHERE status <> 0 GROUP BY 1 ORDER BY 2 DESC LIMIT 5")
		for rows.Next() {
			var msg string
			var n int64
			_ = rows.Scan(&msg, &n)
			fmt.Fprintf(os.Stdout, "  non-OK x%d: %s\n", n, msg)
		}
		rows.Close()
	}
	var failing int64
	must(b, func() error {
		return pool.QueryRow(ctx, "SELECT count(*) FROM check_results WHERE status <> 0").Scan(&failing)
	})
	fmt.Fprintf(os.Stdout, "\nscheduler: %d HTTP checks every %d s against loopback, one worker, %s measured:\n", schedulerChecks, schedulerInterval, schedulerMeasure)
	fmt.Fprintf(os.Stdout, "  scheduled %.0f checks/s, achieved %.0f checks/s = %.1f%% (target >= 99%%), non-OK results %d\n",
		scheduled, achieved, 100*achieved/scheduled, failing)
	fmt.Fprintf(os.Stdout, "  process CPU %.0f%% of one core (worker, target server and PostgreSQL client), peak RSS %s\n",
		100*cpu.Seconds()/end.Sub(start).Seconds(), peakRSS())
	b.ReportMetric(achieved, "checks/s")
	b.ReportMetric(100*achieved/scheduled, "pct-of-schedule")
}

// BenchmarkIngest writes the same results through the runner's writer and through a bare
// CopyFrom into check_results, in the same run, then times the digester over them.
func BenchmarkIngest(b *testing.B) {
	ctx := context.Background()
	d := newBenchDB(b)
	pool, q, ws := d.pool, d.q, d.ws
	host := d.addHost(b, "h")
	checks := make([]uuid.UUID, 1000)
	for i := range checks {
		checks[i] = uuid.New()
		must(b, func() error {
			_, err := q.CreateCheck(ctx, db.CreateCheckParams{WorkspaceID: ws, ID: checks[i], HostID: host, Name: fmt.Sprintf("c%d", i),
				CheckType: "http", Config: []byte(`{"url":"http://127.0.0.1:9/"}`), IntervalSec: 60, TimeoutSec: 5, FailureThreshold: 2, Enabled: true})
			return err
		})
	}
	must(b, func() error { return database.EnsurePartitions(ctx, pool, time.Now()) })
	now := time.Now().UTC()
	records := make([]store.Record, ingestRecords)
	for i := range records {
		records[i] = store.Record{WorkspaceID: ws, CheckID: checks[i%len(checks)], HostID: host, Time: now.Add(time.Duration(i) * time.Millisecond),
			LatencyMs: float64(i % 50), Output: "HTTP 200 in 1.2 ms", Metrics: map[string]float64{"http_status": 200}}
	}

	// The two paths take turns batch by batch over the same records, so that both meet the
	// same table size and the same moments of machine noise.
	rawCopy := func(batch []store.Record) error {
		_, err := pool.CopyFrom(ctx, pgx.Identifier{"check_results"},
			[]string{"workspace_id", "check_id", "host_id", "time", "status", "latency_ms", "output", "error_msg", "metrics"},
			pgx.CopyFromSlice(len(batch), func(j int) ([]any, error) {
				r := batch[j]
				return []any{r.WorkspaceID, r.CheckID, r.HostID, r.Time, r.Status, r.LatencyMs, r.Output, r.ErrorMsg, `{"http_status":200}`}, nil
			}))
		return err
	}
	var rawTime, writerTime time.Duration
	for i := 0; i < len(records); i += ingestBatch {
		batch := records[i:min(i+ingestBatch, len(records))]
		t0 := time.Now()
		must(b, func() error { return rawCopy(batch) })
		t1 := time.Now()
		must(b, func() error { return store.Write(ctx, pool, batch) })
		rawTime, writerTime = rawTime+t1.Sub(t0), writerTime+time.Since(t1)
	}
	raw := float64(len(records)) / rawTime.Seconds()
	writer := float64(len(records)) / writerTime.Seconds()

	// The digest runs beside the writer in production; here it catches up afterwards, which
	// shows its own rate and that it keeps well ahead of the ingest.
	digestStart := time.Now()
	must(b, func() error { return store.NewDigester(pool, benchLog()).DigestAll(ctx) })
	digest := float64(len(records)) / time.Since(digestStart).Seconds()
	var latest int
	must(b, func() error { return pool.QueryRow(ctx, "SELECT count(*) FROM check_latest").Scan(&latest) })
	if latest != len(checks) {
		b.Fatalf("digest left %d latest results, want %d", latest, len(checks))
	}

	fmt.Fprintf(os.Stdout, "\ningest: %d results in batches of %d over %d checks:\n", len(records), ingestBatch, len(checks))
	fmt.Fprintf(os.Stdout, "  raw CopyFrom   %8.0f results/s\n  runner writer  %8.0f results/s (results and their batch row, one transaction)\n  ratio %.2f (target >= 0.70)\n", raw, writer, writer/raw)
	fmt.Fprintf(os.Stdout, "  digester       %8.0f results/s (latest, rollups, streaks, leases, worker counters)\n", digest)
	b.ReportMetric(writer, "writer-results/s")
	b.ReportMetric(raw, "copy-results/s")
	b.ReportMetric(writer/raw, "ratio")
	b.ReportMetric(digest, "digest-results/s")
}

func must(b *testing.B, f func() error) {
	b.Helper()
	if err := f(); err != nil {
		b.Fatal(err)
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func peakRSS() string {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			return strings.Join(strings.Fields(strings.TrimPrefix(line, "VmHWM:")), " ")
		}
	}
	return "?"
}

// benchLog discards logs unless SECUMON_BENCH_LOG names a file for the worker's debug log.
func benchLog() *slog.Logger {
	path := os.Getenv("SECUMON_BENCH_LOG")
	if path == "" {
		return slog.New(slog.DiscardHandler)
	}
	f, err := os.Create(path)
	if err != nil {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
