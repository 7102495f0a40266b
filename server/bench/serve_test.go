package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/server/domain/admin"
)

// The full-product scheduler benchmark: the real `secumon serve` binary, as `make run` starts
// it (its embedded PostgreSQL in its data directory), with N HTTP checks at 10 s against a
// loopback target served by this process. CPU is that of the serve process and of every
// PostgreSQL process together; the target's and the load generator's (this process) are not
// counted.
const (
	serveInterval = 10 // seconds
	// serveWarmupDefault follows the creation of a scenario's checks (10,000 API writes in
	// under a minute). Runs made late while they were created are followed by early ones as
	// each schedule returns to its phase, and with a 20 s warm-up some of that still showed in
	// the measurement (up to 108% of schedule). The table measures the steady state;
	// SECUMON_BENCH_WARMUP (a duration) changes the wait.
	serveWarmupDefault = 60 * time.Second
	serveMeasure       = 60 * time.Second
	serveHosts         = 100 // checks are spread over them; GET /api/v2/hosts lists them
	lateFactor         = 1.1 // an interval longer than 1.1× the check's interval is late
)

// serveScenario is one row of the table.
type serveScenario struct {
	name     string
	checks   int  // total enabled checks while it runs
	paused   int  // total paused checks (enabled: false) beside them
	readLoad bool // 32 connections on GET /api/v2/hosts while it runs
}

// scenarios: SECUMON_BENCH_SERVE picks some by name (comma-separated: 10k, 10k+read, 20k,
// 20k+paused); default all four, in this order (each builds on the checks of the previous
// one). Paused checks should cost next to nothing: users pause monitors by the hundred and
// leave them, so 20k+paused adds 10,000 of them beside the 20,000 of 20k.
func serveScenarios() []serveScenario {
	all := []serveScenario{
		{name: "10k", checks: 10_000}, {name: "10k+read", checks: 10_000, readLoad: true},
		{name: "20k", checks: 20_000}, {name: "20k+paused", checks: 20_000, paused: 10_000},
	}
	pick := os.Getenv("SECUMON_BENCH_SERVE")
	if pick == "" {
		return all
	}
	var out []serveScenario
	for _, s := range all {
		for _, name := range strings.Split(pick, ",") {
			if strings.TrimSpace(name) == s.name {
				out = append(out, s)
			}
		}
	}
	return out
}

type serveRow struct {
	serveScenario
	scheduled, achieved float64 // runs/s
	intervals, late     int64
	early               int64 // intervals shorter than (2 - lateFactor) × the interval: a run doubled or hurried
	maxGap              time.Duration
	serveCPU, pgCPU     float64 // % of one core
	serveRSS            int64   // serve's resident memory at the end, bytes
	read                *result
	load                string // /proc/loadavg's 1-minute figure at the end: other work on the machine
}

func (r serveRow) cpu() float64 { return r.serveCPU + r.pgCPU }

// BenchmarkServe: see the constants above. Targets: >= 99.5% of schedule, < 0.1% of intervals
// late, >= 20 checks/s per CPU-%. SECUMON_BENCH_PPROF=dir saves a 30 s CPU profile of serve
// per scenario; SECUMON_BENCH_PGSS=1 loads pg_stat_statements and prints the top queries, the
// most written tables, the most read indexes and the WAL and checkpoints of the measurement;
// SECUMON_BENCH_SQL runs statements before the checks are created (experiments, such as a
// table's storage parameters).
func BenchmarkServe(b *testing.B) {
	scenarios := serveScenarios()
	if len(scenarios) == 0 {
		b.Skip("SECUMON_BENCH_SERVE names no scenario")
	}
	ctx := context.Background()
	dir := b.TempDir()
	// As root, the embedded PostgreSQL runs as postgres, which must enter the data directory.
	must(b, func() error { return os.Chmod(filepath.Dir(dir), 0o755) })
	must(b, func() error { return os.Chmod(dir, 0o755) })
	bin := filepath.Join(dir, "secumon")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/secuaas/secumon/cmd/secumon").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	defer target.Close()

	s := startServe(b, bin, filepath.Join(dir, "data"))
	defer s.stop()
	if keep := os.Getenv("SECUMON_BENCH_PGSS"); keep != "" && keep != "1" {
		defer func() { // SECUMON_BENCH_PGSS=dir keeps PostgreSQL's log (and its slow plans) there
			raw, _ := os.ReadFile(filepath.Join(dir, "data", "postgres", "postgres.log"))
			_ = os.WriteFile(filepath.Join(keep, "postgres.log"), raw, 0o644)
		}()
	}
	pool, err := pgxpool.New(ctx, s.connString())
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	if os.Getenv("SECUMON_BENCH_PGSS") != "" {
		must(b, func() error {
			_, err := pool.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
			return err
		})
	}
	if stmts := os.Getenv("SECUMON_BENCH_SQL"); stmts != "" { // experiments: e.g. a table's storage parameters
		must(b, func() error { _, err := pool.Exec(ctx, stmts); return err })
	}
	c, err := client.New(s.url, client.WithToken(s.token))
	if err != nil {
		b.Fatal(err)
	}
	hostIDs := make([]client.Id, serveHosts)
	for i := range hostIDs {
		h, err := c.Hosts.Create(ctx, client.HostCreate{Name: fmt.Sprintf("target-%03d", i), Hostname: "127.0.0.1"})
		if err != nil {
			b.Fatal(err)
		}
		hostIDs[i] = h.Id
	}

	var rows []serveRow
	created, paused := 0, 0
	for _, sc := range scenarios {
		if sc.checks > created || sc.paused > paused {
			t0 := time.Now()
			createChecks(b, c, hostIDs, target.URL, "http", true, created, sc.checks)
			createChecks(b, c, hostIDs, target.URL, "paused", false, paused, sc.paused)
			fmt.Fprintf(os.Stdout, "created checks %d..%d and paused checks %d..%d through the API in %s (%.0f/s)\n", created, sc.checks,
				paused, sc.paused, time.Since(t0).Round(time.Second), float64(sc.checks-created+sc.paused-paused)/time.Since(t0).Seconds())
			created, paused = sc.checks, sc.paused
			if os.Getenv("SECUMON_BENCH_ANALYZE") != "" { // experiment: fresh statistics instead of autovacuum's
				must(b, func() error { _, err := pool.Exec(ctx, "ANALYZE checks, hosts"); return err })
			}
			time.Sleep(serveWarmup())
		} else {
			time.Sleep(5 * time.Second) // the previous scenario warmed up the same checks
		}
		if os.Getenv("SECUMON_BENCH_PGSS") != "" {
			// Statements only: resetting the tables' counters would hold autovacuum back
			// during the measurement, and its work is part of the product's cost.
			must(b, func() error { _, err := pool.Exec(ctx, "SELECT pg_stat_statements_reset()"); return err })
		}
		var idx0 map[string]indexReads
		var wal0 walStats
		if os.Getenv("SECUMON_BENCH_PGSS") != "" {
			idx0, wal0 = readIndexes(b, pool), readWAL(b, pool)
		}
		row := serveRow{serveScenario: sc, scheduled: float64(sc.checks) / serveInterval}
		var readDone chan result
		if sc.readLoad {
			readDone = make(chan result, 1)
			go func() {
				readDone <- loadWith(s.url+"/api/v2/hosts", http.Header{"Authorization": {"Bearer " + s.token}}, connections, serveMeasure,
					func(resp *http.Response) error {
						if resp.StatusCode != http.StatusOK {
							return fmt.Errorf("status %d", resp.StatusCode)
						}
						return nil
					})
			}()
		}
		if pdir := os.Getenv("SECUMON_BENCH_PPROF"); pdir != "" {
			go s.profile(filepath.Join(pdir, "serve-"+sc.name+".pprof"), 25*time.Second)
		}
		serve0, pg0, start := procCPU(s.cmd.Process.Pid), s.pgCPU(), time.Now()
		time.Sleep(serveMeasure)
		serve1, pg1, end := procCPU(s.cmd.Process.Pid), s.pgCPU(), time.Now()
		wall := end.Sub(start).Seconds()
		row.serveCPU = 100 * (serve1 - serve0).Seconds() / wall
		row.pgCPU = 100 * (pg1 - pg0).Seconds() / wall
		if readDone != nil {
			r := <-readDone
			row.read = &r
		}
		if raw, err := os.ReadFile("/proc/loadavg"); err == nil {
			row.load = strings.Fields(string(raw))[0]
		}
		row.serveRSS = procRSS(s.cmd.Process.Pid)
		// A run's result is stored under its start time but written after it ends, in the
		// writer's next batch (up to 200 ms later, then its COPY): counted at once, the runs of
		// the measurement's last few hundred milliseconds were missing, 0.3-0.5% of the
		// schedule at 20,000 checks, more when PostgreSQL was slow.
		time.Sleep(resultsSettle)
		s.schedule(b, pool, &row, start, end)
		rows = append(rows, row)
		if os.Getenv("SECUMON_BENCH_PGSS") != "" {
			printTopStatements(b, pool)
			printIndexReads(idx0, readIndexes(b, pool))
			printWAL(wal0, readWAL(b, pool))
		}
	}

	fmt.Fprintf(os.Stdout, "\nsecumon serve (embedded PostgreSQL), HTTP checks every %d s against loopback, %s measured after %s warm-up;\n", serveInterval, serveMeasure, serveWarmup())
	fmt.Fprintf(os.Stdout, "CPU = serve process + all PostgreSQL processes, %% of one core. Targets: >= 99.5%% of schedule, < 0.1%% late, >= 20 checks/s per CPU-%%.\n")
	fmt.Fprintf(os.Stdout, "%-10s %8s %8s %9s %9s %8s %8s %8s %7s %7s %7s %9s %9s %5s  %s\n",
		"scenario", "checks", "paused", "sched/s", "achieved", "late", "early", "max gap", "serve", "pg", "cpu", "chk/s/%", "serve rss", "load", "read load (GET /api/v2/hosts, 32 conns)")
	for _, r := range rows {
		read := "-"
		if r.read != nil {
			read = fmt.Sprintf("%.0f req/s, p99 %.1f ms, %d errors", r.read.rps, ms(r.read.p99), r.read.errors)
		}
		fmt.Fprintf(os.Stdout, "%-10s %8d %8d %9.0f %8.2f%% %7.3f%% %7.3f%% %7.1fs %6.1f%% %6.1f%% %6.1f%% %9.1f %6d MiB %5s  %s\n",
			r.name, r.checks, r.paused, r.scheduled, 100*r.achieved/r.scheduled, 100*float64(r.late)/float64(max(r.intervals, 1)),
			100*float64(r.early)/float64(max(r.intervals, 1)),
			r.maxGap.Seconds(), r.serveCPU, r.pgCPU, r.cpu(), r.achieved/r.cpu(), r.serveRSS>>20, r.load, read)
		b.ReportMetric(100*r.achieved/r.scheduled, r.name+"-pct-of-schedule")
		b.ReportMetric(r.achieved/r.cpu(), r.name+"-checks/s/cpu%")
	}
}

// createChecks creates checks [from, to) named prefix-i through the API, 16 requests at a time.
func createChecks(b *testing.B, c *client.Client, hosts []client.Id, url, prefix string, enabled bool, from, to int) {
	b.Helper()
	var next atomic.Int64
	next.Store(int64(from))
	var failed atomic.Value
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= to || failed.Load() != nil {
					return
				}
				interval, timeout := serveInterval, 5
				_, err := c.Checks.Create(context.Background(), client.NewCheckCreate(client.HttpCheckCreate{
					HostId: hosts[i%len(hosts)], Name: fmt.Sprintf("%s-%05d", prefix, i), IntervalSec: &interval, TimeoutSec: &timeout,
					Enabled: &enabled, Config: client.HttpConfig{URL: url + "/" + strconv.Itoa(i)},
				}))
				if err != nil {
					failed.Store(err)
				}
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatalf("create check: %v", err)
	}
}

// schedule fills in the row's schedule figures from the results whose runs started in
// [start, end): achieved runs, and the gaps between consecutive results of each check (the
// gap from a check's last result to end counts too, so a check that stopped is late).
// resultsSettle is the wait, after a measurement, for the results of the runs it started.
const resultsSettle = 3 * time.Second

// runGaps starts the queries over the runs of [$1 start, $2 end) ($3 is lateFactor, $4 the
// interval in seconds): r is each run with its gap since the check's previous run, read from
// one interval before the start so that the first runs in the window have one.
const runGaps = `
			WITH r AS (
				SELECT check_id, time, run_id, extract(epoch FROM time - lag(time) OVER (PARTITION BY check_id ORDER BY time)) AS gap
				FROM check_results WHERE time >= $1::timestamptz - make_interval(secs => $4) AND time < $2)`

func (s *serveProc) schedule(b *testing.B, pool *pgxpool.Pool, row *serveRow, start, end time.Time) {
	b.Helper()
	ctx := context.Background()
	var n int64
	var maxGapSec float64
	must(b, func() error {
		return pool.QueryRow(ctx, runGaps+`,
			tail AS (
				SELECT extract(epoch FROM $2::timestamptz - max(time)) AS gap FROM r GROUP BY check_id),
			gaps AS (
				SELECT gap FROM r WHERE time >= $1 AND gap IS NOT NULL
				UNION ALL SELECT gap FROM tail WHERE gap > $3 * $4)
			SELECT (SELECT count(*) FROM r WHERE time >= $1),
			       (SELECT count(*) FROM gaps), (SELECT count(*) FROM gaps WHERE gap > $3 * $4),
			       (SELECT count(*) FROM gaps WHERE gap < (2 - $3) * $4),
			       coalesce((SELECT max(gap) FROM gaps), 0)::float8`,
			start, end, lateFactor, float64(serveInterval)).Scan(&n, &row.intervals, &row.late, &row.early, &maxGapSec)
	})
	if row.early > 0 { // show one check's runs around an early interval: what ran it, when
		rows, err := pool.Query(ctx, runGaps+`,
			one AS (SELECT check_id FROM r WHERE time >= $1 AND gap < (2 - $3) * $4 LIMIT 1)
			SELECT to_char(r.time, 'HH24:MI:SS.MS'), coalesce(round(r.gap::numeric, 2)::text, '-'), r.run_id::text
			FROM r JOIN one USING (check_id) ORDER BY r.time`, start, end, lateFactor, float64(serveInterval))
		if err == nil {
			fmt.Fprintf(os.Stdout, "  one check with an early interval (time, gap s, run id):\n")
			for rows.Next() {
				var at, gap, run string
				_ = rows.Scan(&at, &gap, &run)
				fmt.Fprintf(os.Stdout, "    %s %6s %s\n", at, gap, run)
			}
			rows.Close()
		}
	}
	row.achieved = float64(n) / end.Sub(start).Seconds()
	row.maxGap = time.Duration(maxGapSec * float64(time.Second))
}

func printTopStatements(b *testing.B, pool *pgxpool.Pool) {
	rows, err := pool.Query(context.Background(), `
		SELECT calls, total_exec_time, total_plan_time, rows, regexp_replace(left(query, 100), '\s+', ' ', 'g')
		FROM pg_stat_statements ORDER BY total_exec_time + total_plan_time DESC LIMIT 15`)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	fmt.Fprintf(os.Stdout, "  pg_stat_statements, by execution + planning time:\n  %9s %10s %9s %10s  %s\n", "calls", "exec ms", "plan ms", "rows", "query")
	for rows.Next() {
		var calls, nrows int64
		var exec, plan float64
		var q string
		_ = rows.Scan(&calls, &exec, &plan, &nrows, &q)
		fmt.Fprintf(os.Stdout, "  %9d %10.0f %9.0f %10d  %s\n", calls, exec, plan, nrows, q)
	}
	rows.Close()
	// Updates that had to add index entries (not HOT) are what bloats the hot tables' indexes.
	tables, err := pool.Query(context.Background(), `
		SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_dead_tup, autovacuum_count
		FROM pg_stat_user_tables WHERE n_tup_upd + n_tup_ins > 0 ORDER BY n_tup_upd + n_tup_ins DESC LIMIT 8`)
	if err != nil {
		b.Fatal(err)
	}
	defer tables.Close()
	fmt.Fprintf(os.Stdout, "  tables, by rows written since serve started:\n  %-28s %9s %9s %9s %9s %5s\n", "table", "inserted", "updated", "hot", "dead", "avac")
	for tables.Next() {
		var name string
		var ins, upd, hot, dead, avac int64
		_ = tables.Scan(&name, &ins, &upd, &hot, &dead, &avac)
		fmt.Fprintf(os.Stdout, "  %-28s %9d %9d %9d %9d %5d\n", name, ins, upd, hot, dead, avac)
	}
}

// indexReads are an index's cumulative scans and the entries they read.
type indexReads struct{ scans, read int64 }

func readIndexes(b *testing.B, pool *pgxpool.Pool) map[string]indexReads {
	rows, err := pool.Query(context.Background(), `SELECT indexrelname, idx_scan, idx_tup_read FROM pg_stat_user_indexes`)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	out := map[string]indexReads{}
	for rows.Next() {
		var name string
		var r indexReads
		_ = rows.Scan(&name, &r.scans, &r.read)
		out[name] = r
	}
	return out
}

// printIndexReads prints the indexes that read the most entries during the measurement, with
// the entries per scan: a scan that reads many more entries than it returns rows walks dead
// ones (an index whose keys every claim moves, between two vacuums).
func printIndexReads(before, after map[string]indexReads) {
	type delta struct {
		name string
		indexReads
	}
	var ds []delta
	for name, a := range after {
		ds = append(ds, delta{name, indexReads{a.scans - before[name].scans, a.read - before[name].read}})
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].read > ds[j].read })
	fmt.Fprintf(os.Stdout, "  indexes, by entries read during the measurement:\n  %-40s %9s %11s %9s\n", "index", "scans", "entries", "per scan")
	for _, d := range ds[:min(6, len(ds))] {
		fmt.Fprintf(os.Stdout, "  %-40s %9d %11d %9.1f\n", d.name, d.scans, d.read, float64(d.read)/float64(max(d.scans, 1)))
	}
}

// walStats is PostgreSQL's WAL and checkpoint counters (PostgreSQL 15's pg_stat_wal and
// pg_stat_bgwriter).
type walStats struct {
	records, fpi, bytes, checkpoints int64
	checkpointMs                     float64
}

func readWAL(b *testing.B, pool *pgxpool.Pool) walStats {
	var w walStats
	err := pool.QueryRow(context.Background(), `SELECT w.wal_records, w.wal_fpi, w.wal_bytes::bigint,
		    g.checkpoints_timed + g.checkpoints_req, g.checkpoint_write_time + g.checkpoint_sync_time
		FROM pg_stat_wal w, pg_stat_bgwriter g`).Scan(&w.records, &w.fpi, &w.bytes, &w.checkpoints, &w.checkpointMs)
	if err != nil {
		b.Fatal(err)
	}
	return w
}

// printWAL prints the WAL written during the measurement and the checkpoints in it. After a
// checkpoint, the first change to each page writes the whole page to the WAL (full-page
// images): a measurement that a checkpoint falls into costs more for the same work, which
// tells an artefact of timing from a cost of the scenario.
func printWAL(before, after walStats) {
	fmt.Fprintf(os.Stdout, "  WAL during the measurement: %d records, %d full-page images, %.0f MiB; %d checkpoints (%.0f ms writing)\n",
		after.records-before.records, after.fpi-before.fpi, float64(after.bytes-before.bytes)/(1<<20),
		after.checkpoints-before.checkpoints, after.checkpointMs-before.checkpointMs)
}

// serveProc is a running `secumon serve`.
type serveProc struct {
	cmd         *exec.Cmd
	dataDir     string
	url, token  string
	metricsAddr string
	exited      chan struct{} // closed when cmd has exited
}

func freeAddr(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServe runs serve as `make run` does, with API rate limits off (the bench creates
// thousands of checks and runs a read load with one token) and the metrics listener on.
func startServe(b *testing.B, bin, dataDir string) *serveProc {
	b.Helper()
	s := &serveProc{dataDir: dataDir, metricsAddr: freeAddr(b)}
	addr := freeAddr(b)
	if os.Getenv("SECUMON_BENCH_PGSS") != "" {
		// The cluster must exist to be configured: a first start creates it.
		s.run(b, bin, addr)
		s.stop()
		conf, err := os.OpenFile(filepath.Join(dataDir, "postgres", "pgdata", "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			b.Fatal(err)
		}
		// auto_explain logs the plans of statements slower than 150 ms to postgres.log, with
		// every autovacuum and autoanalyze and what it took.
		_, _ = conf.WriteString("\nshared_preload_libraries = 'pg_stat_statements,auto_explain'\npg_stat_statements.track = all\npg_stat_statements.track_planning = on\n" +
			"auto_explain.log_min_duration = '" + explainMin() + "'\nauto_explain.log_analyze = on\nauto_explain.log_buffers = on\n" +
			"log_autovacuum_min_duration = 0\n")
		conf.Close()
	}
	s.run(b, bin, addr)
	return s
}

func (s *serveProc) run(b *testing.B, bin, addr string) {
	b.Helper()
	s.cmd = exec.Command(bin, "serve", "--data-dir", s.dataDir, "--addr", addr, "--metrics-addr", s.metricsAddr,
		"--rate-token", "-1", "--log-level", "warn")
	s.cmd.Env = append(os.Environ(), "SECUMON_NOTIFY_ALLOW=127.0.0.0/8,::1/128")
	logf, err := os.Create(filepath.Join(filepath.Dir(s.dataDir), "serve.log"))
	if err != nil {
		b.Fatal(err)
	}
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	s.url = "http://" + addr
	exited := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(exited) }()
	s.exited = exited
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get(s.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(logf.Name())
			b.Fatalf("serve exited:\n%s", log)
		default:
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logf.Name())
			b.Fatalf("serve not ready after 90 s:\n%s", log)
		}
		time.Sleep(200 * time.Millisecond)
	}
	token, err := os.ReadFile(filepath.Join(s.dataDir, admin.OwnerTokenFile))
	if err != nil {
		b.Fatal(err)
	}
	s.token = strings.TrimSpace(string(token))
}

// stop ends serve with SIGTERM, as Ctrl-C does; serve stops its PostgreSQL.
func (s *serveProc) stop() {
	if s.cmd == nil {
		return
	}
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(60 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

func (s *serveProc) connString() string {
	return fmt.Sprintf("host=%s port=5432 user=postgres dbname=secumon", filepath.Join(s.dataDir, "postgres", "run"))
}

// pgCPU is the CPU time of the postmaster and all its children: live children from their own
// counters, exited ones from the postmaster's cutime+cstime (it waits for each).
func (s *serveProc) pgCPU() time.Duration {
	raw, err := os.ReadFile(filepath.Join(s.dataDir, "postgres", "pgdata", "postmaster.pid"))
	if err != nil {
		return 0
	}
	pm, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(raw), "\n", 2)[0]))
	f := statFields(pm)
	if f == nil {
		return 0
	}
	total := ticks(f, 13) + ticks(f, 14) + ticks(f, 15) + ticks(f, 16)
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == pm {
			continue
		}
		if cf := statFields(pid); cf != nil && cf[3] == strconv.Itoa(pm) {
			total += ticks(cf, 13) + ticks(cf, 14)
		}
	}
	return total
}

// procCPU is a process's own user+system CPU time.
func procCPU(pid int) time.Duration {
	f := statFields(pid)
	if f == nil {
		return 0
	}
	return ticks(f, 13) + ticks(f, 14)
}

// procRSS is a process's resident memory (VmRSS), in bytes; 0 when unknown.
func procRSS(pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// statFields splits /proc/pid/stat into its fields (field 1 = index 0); the command name may
// hold spaces, so the fields after it are counted from its closing parenthesis.
func statFields(pid int) []string {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	s := string(raw)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return append([]string{s[:i], ""}, strings.Fields(s[i+1:])...)
}

// ticks reads field i (utime is 13, stime 14, cutime 15, cstime 16) as a duration: the kernel
// counts in USER_HZ, 100 on Linux.
func ticks(f []string, i int) time.Duration {
	if i >= len(f) {
		return 0
	}
	n, _ := strconv.ParseInt(f[i], 10, 64)
	return time.Duration(n) * 10 * time.Millisecond
}

// profile saves a CPU profile of serve from its /debug/pprof/ on the metrics listener.
func (s *serveProc) profile(path string, d time.Duration) {
	resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", s.metricsAddr, int(d.Seconds())))
	if err != nil {
		fmt.Fprintf(os.Stderr, "pprof: %v\n", err)
		return
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = io.Copy(f, bufio.NewReader(resp.Body))
}

// serveWarmup is the wait between creating checks and measuring: SECUMON_BENCH_WARMUP, or
// serveWarmupDefault.
func serveWarmup() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("SECUMON_BENCH_WARMUP")); err == nil && d >= 0 {
		return d
	}
	return serveWarmupDefault
}

// explainMin is auto_explain's threshold: SECUMON_BENCH_EXPLAIN_MS, or 150 ms.
func explainMin() string {
	if ms := os.Getenv("SECUMON_BENCH_EXPLAIN_MS"); ms != "" {
		return ms + "ms"
	}
	return "150ms"
}
