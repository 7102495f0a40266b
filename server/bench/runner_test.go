package bench

import (
	"context"
	"fmt"
	"log/slog"
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
)

const (
	ingestRecords = 50_000
	ingestBatch   = 1_000
)

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
