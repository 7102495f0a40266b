package bench

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server"
	"github.com/secuaas/secumon/server/domain/incidents"
)

const (
	pageComponents  = 20 // hosts on the benchmarked status page, each with one check
	pageConnections = 64
	sseStreams      = 500
)

// BenchmarkStatusPageAPI measures GET /status/{slug}/api through the full stack (public
// middleware, generated router, cache, cached bytes) beside a handler that writes the same
// bytes and nothing else: the limit of net/http and the load generator on this machine. The
// page has 20 components with 90 days of daily rollups; the server-side cache means
// PostgreSQL sees one load per 5 s whatever the rate.
func BenchmarkStatusPageAPI(b *testing.B) {
	ctx := context.Background()
	d := newBenchDB(b)
	seedStatusPage(b, d)
	svc, err := server.Build(ctx, server.Deps{Pool: d.pool, Logger: slog.New(slog.DiscardHandler), Serve: true})
	if err != nil {
		b.Fatal(err)
	}
	full := httptest.NewServer(svc)
	defer full.Close()
	url := full.URL + "/status/bench/api"

	// The clients ask for gzip as browsers do (and, setting the header themselves, get the
	// compressed bytes as they are: decompressing is the browser's work, not the server's).
	header := http.Header{"Accept-Encoding": {"gzip"}}
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header = header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "gzip" {
		b.Fatalf("status %d, Content-Encoding %q", resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
	plain, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	plainSize, _ := io.Copy(io.Discard, plain)
	static := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for _, k := range []string{"Content-Type", "Content-Encoding", "ETag", "Cache-Control", "Vary"} {
			w.Header().Set(k, resp.Header.Get(k))
		}
		_, _ = w.Write(body)
	}))
	defer static.Close()
	check := func(resp *http.Response) error {
		n, err := io.Copy(io.Discard, resp.Body)
		if err == nil && (resp.StatusCode != http.StatusOK || n != int64(len(body))) {
			err = fmt.Errorf("status %d, %d bytes", resp.StatusCode, n)
		}
		return err
	}

	loadWith(static.URL, header, pageConnections, 500*time.Millisecond, check)
	loadWith(url, header, pageConnections, 500*time.Millisecond, check)
	var fulls, statics []result
	for i := range rounds {
		sr := loadWith(static.URL, header, pageConnections, roundTime, check)
		fr := loadWith(url, header, pageConnections, roundTime, check)
		fmt.Fprintf(os.Stdout, "round %d  static bytes:       %s\n", i+1, sr)
		fmt.Fprintf(os.Stdout, "round %d  /status/{slug}/api: %s\n", i+1, fr)
		if sr.errors+fr.errors > 0 {
			b.Errorf("errors during the load: static %d, full %d", sr.errors, fr.errors)
		}
		statics, fulls = append(statics, sr), append(fulls, fr)
	}
	rps := func(r result) float64 { return r.rps }
	p99 := func(r result) float64 { return ms(r.p99) }
	ratio := median(fulls, rps) / median(statics, rps)
	fmt.Fprintf(os.Stdout, "\nGET /status/{slug}/api (%d components, 90 days: %d bytes, %d gzipped), %d connections, median of %d rounds of %s:\n",
		pageComponents, plainSize, len(body), pageConnections, rounds, roundTime)
	fmt.Fprintf(os.Stdout, "  static bytes  %8.0f req/s  p99 %6.2f ms\n", median(statics, rps), median(statics, p99))
	fmt.Fprintf(os.Stdout, "  status page   %8.0f req/s  p99 %6.2f ms  (target >= 10000 req/s)\n", median(fulls, rps), median(fulls, p99))
	fmt.Fprintf(os.Stdout, "  ratio status page/static = %.2f\n", ratio)
	b.ReportMetric(median(fulls, rps), "page-req/s")
	b.ReportMetric(median(statics, rps), "static-req/s")
	b.ReportMetric(ratio, "ratio")
}

// seedStatusPage creates the page "bench": pageComponents hosts with one check each, every
// check with 90 daily rollups and a latest status.
func seedStatusPage(b *testing.B, d benchDB) {
	b.Helper()
	ctx := context.Background()
	page, err := d.q.CreateStatusPage(ctx, db.CreateStatusPageParams{WorkspaceID: d.ws, ID: uuid.New(), Slug: "bench",
		Title: "Bench status", IsPublic: true, ShowHistoryDays: 90})
	if err != nil {
		b.Fatal(err)
	}
	var comps []db.InsertStatusPageComponentsParams
	for i := range pageComponents {
		host := d.addHost(b, fmt.Sprintf("page-host-%02d", i))
		_, err := d.q.CreateCheck(ctx, db.CreateCheckParams{WorkspaceID: d.ws, ID: uuid.New(), HostID: host,
			Name: fmt.Sprintf("page-check-%02d", i), CheckType: "ping", Config: []byte(`{}`), IntervalSec: 60, TimeoutSec: 10,
			FailureThreshold: 2, Enabled: true})
		if err != nil {
			b.Fatal(err)
		}
		comps = append(comps, db.InsertStatusPageComponentsParams{WorkspaceID: d.ws, PageID: page.ID, ID: uuid.New(),
			SortOrder: int32(i), Position: int32(i), Name: fmt.Sprintf("Service %02d", i), GroupName: []string{"Web", "Data"}[i%2], HostID: &host})
	}
	if _, err := d.q.InsertStatusPageComponents(ctx, comps); err != nil {
		b.Fatal(err)
	}
	must(b, func() error {
		_, err := d.pool.Exec(ctx, `
			INSERT INTO check_rollups (workspace_id, check_id, bucket_size, bucket, samples, ok, warning, critical, unknown, latency_sum, latency_min, latency_max)
			SELECT c.workspace_id, c.id, 86400, date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - n * interval '1 day',
			       1440, 1440 - (n % 3), 0, n % 3, 0, 1440, 1, 1
			FROM checks c CROSS JOIN generate_series(0, 89) AS n WHERE c.workspace_id = $1`, d.ws)
		if err == nil {
			_, err = d.pool.Exec(ctx, `UPDATE checks SET last_status = 0 WHERE workspace_id = $1`, d.ws)
		}
		return err
	})
}

// BenchmarkEventStreams opens 500 GET /events streams on one server and reports what they
// cost the process (heap and stacks after GC, goroutines), then how long one incident takes
// to reach all of them. The streams are raw loopback connections that each read their first
// event, so the client side adds little beyond the sockets.
func BenchmarkEventStreams(b *testing.B) {
	ctx := context.Background()
	d := newBenchDB(b)
	svc, err := server.Build(ctx, server.Deps{Pool: d.pool, Logger: slog.New(slog.DiscardHandler), Serve: true})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(svc)
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	request := []byte("GET /api/v2/events HTTP/1.1\r\nHost: " + addr + "\r\nAuthorization: Bearer " + d.token + "\r\nAccept: text/event-stream\r\n\r\n")
	buf := make([]byte, 64<<10)
	open := func() net.Conn {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := conn.Write(request); err != nil {
			b.Fatal(err)
		}
		if err := readUntil(conn, buf, "\ndata: "); err != nil {
			b.Fatal(err)
		}
		return conn
	}
	// Warm up: one stream opens the listening connection and the workspace's topic.
	warm := open()

	before := memory()
	start := time.Now()
	conns := make([]net.Conn, sseStreams)
	for i := range conns {
		conns[i] = open()
	}
	opened := time.Since(start)
	after := memory()
	perStream := float64(after.bytes-before.bytes) / sseStreams
	fmt.Fprintf(os.Stdout, "\n%d GET /events streams opened in %v (first event read on each):\n", sseStreams, opened.Round(time.Millisecond))
	fmt.Fprintf(os.Stdout, "  heap+stacks %s → %s: %.1f KiB per stream; %.1f goroutines per stream\n",
		kib(before.bytes), kib(after.bytes), perStream/1024, float64(after.goroutines-before.goroutines)/sseStreams)

	// Fan-out: one incident, every stream gets the new summary.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var slowest time.Duration
	failed := 0
	wg.Add(len(conns))
	t0 := time.Now()
	for _, conn := range conns {
		go func() {
			defer wg.Done()
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			err := readUntil(conn, make([]byte, 4096), "incidents_open\":1")
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed++
				return
			}
			slowest = max(slowest, time.Since(t0))
		}()
	}
	_, err = d.pool.Exec(ctx, `INSERT INTO incidents (workspace_id, id, title, severity) VALUES ($1, $2, 'bench', 'major')`, d.ws, uuid.New())
	if err == nil {
		err = incidents.PublishChange(ctx, db.New(d.pool), d.ws)
	}
	if err != nil {
		b.Fatal(err)
	}
	wg.Wait()
	fmt.Fprintf(os.Stdout, "  one incident reached all %d streams in %v (%d failed)\n", sseStreams, slowest.Round(time.Millisecond), failed)
	if failed > 0 {
		b.Errorf("%d streams missed the event", failed)
	}
	for _, conn := range conns {
		conn.Close()
	}
	warm.Close()
	b.ReportMetric(perStream, "bytes/stream")
	b.ReportMetric(float64(slowest)/float64(time.Millisecond), "fanout-ms")
}

// readUntil reads conn until what it read contains marker.
func readUntil(conn net.Conn, buf []byte, marker string) error {
	var seen []byte
	for !bytes.Contains(seen, []byte(marker)) {
		n, err := conn.Read(buf)
		if err != nil {
			return fmt.Errorf("reading the stream: %w (read %q)", err, seen)
		}
		seen = append(seen, buf[:n]...)
	}
	return nil
}

type memSample struct {
	bytes      uint64
	goroutines int
}

// memory is the heap in use plus goroutine stacks after a full GC.
func memory() memSample {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return memSample{bytes: m.HeapInuse + m.StackInuse, goroutines: runtime.NumGoroutine()}
}

func kib(n uint64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
