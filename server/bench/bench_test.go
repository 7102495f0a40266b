// Package bench measures GET /api/v2/hosts through SecuMon's full HTTP stack beside a bare
// net/http + pgx handler running the same two queries on the same database, in the same run,
// so the ratio says what the stack (middleware, contract gate, auth, validation, strict
// handlers) costs on this machine today, whatever its noise.
//
//	make bench   (go test -run '^$' -bench . -benchtime 1x ./server/bench/)
package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server"
	"github.com/secuaas/secumon/server/domain/admin"
	"github.com/secuaas/secumon/server/testkit/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

const (
	hosts       = 100
	connections = 32
	rounds      = 3
	roundTime   = 3 * time.Second
)

type result struct {
	requests int
	errors   int
	rps      float64
	p50, p99 time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("%8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  (%d requests, %d errors)",
		r.rps, ms(r.p50), ms(r.p99), r.requests, r.errors)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// load keeps `connections` keep-alive clients busy on GET /api/v2/hosts-like url for d,
// checking that every answer lists all the hosts.
func load(url, token string, d time.Duration) result {
	return loadWith(url, http.Header{"Authorization": {"Bearer " + token}}, connections, d, func(resp *http.Response) error {
		var body struct {
			Count int `json:"count"`
		}
		err := json.NewDecoder(resp.Body).Decode(&body)
		if err == nil && (resp.StatusCode != http.StatusOK || body.Count != hosts) {
			err = fmt.Errorf("status %d count %d", resp.StatusCode, body.Count)
		}
		return err
	})
}

// loadWith keeps conns keep-alive clients busy on url for d, sending header, and measures
// every request that check accepts (it reads the body). It stops by itself after d: the load
// is bounded and stays on loopback.
func loadWith(url string, header http.Header, conns int, d time.Duration, check func(*http.Response) error) result {
	transport := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	deadline := time.Now().Add(d)
	var mu sync.Mutex
	var all []time.Duration
	errors := 0
	var wg sync.WaitGroup
	start := time.Now()
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			bad := 0
			for time.Now().Before(deadline) {
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				if header != nil {
					req.Header = header.Clone()
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					err = check(resp)
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if err != nil {
					bad++
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			all = append(all, mine...)
			errors += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	r := result{requests: len(all), errors: errors, rps: float64(len(all)) / elapsed.Seconds()}
	if len(all) > 0 {
		r.p50 = all[len(all)/2]
		r.p99 = all[len(all)*99/100]
	}
	return r
}

// bareHandler is the baseline: the same ListHosts and CountHosts queries, JSON-encoded, with
// nothing else around them (no auth, no validation, no middleware).
func bareHandler(pool *pgxpool.Pool, workspace uuid.UUID) http.Handler {
	q := db.New(pool)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rows, err := q.ListHosts(r.Context(), db.ListHostsParams{WorkspaceID: workspace, MaxRows: 101})
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		n, err := q.CountHosts(r.Context(), db.CountHostsParams{WorkspaceID: workspace})
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"count": n, "hosts": rows})
	})
}

func median(rs []result, f func(result) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	sort.Float64s(v)
	return v[len(v)/2]
}

func BenchmarkListHosts(b *testing.B) {
	ctx := context.Background()
	d := newBenchDB(b)
	pool, q, token, ws := d.pool, d.q, d.token, d.ws
	for i := range hosts {
		_, err := q.CreateHost(ctx, db.CreateHostParams{WorkspaceID: ws, ID: uuid.New(), Name: fmt.Sprintf("host-%03d", i),
			Hostname: "127.0.0.1", HostType: "server", Tags: []byte(`{"env":"bench"}`), IsActive: true})
		if err != nil {
			b.Fatal(err)
		}
	}
	svc, err := server.Build(ctx, server.Deps{Pool: pool, Logger: slog.New(slog.DiscardHandler), Serve: true})
	if err != nil {
		b.Fatal(err)
	}
	full := httptest.NewServer(svc)
	defer full.Close()
	bare := httptest.NewServer(bareHandler(pool, ws))
	defer bare.Close()

	// Warm both (connections, caches), then alternate so drift hits both alike.
	load(bare.URL, token, 500*time.Millisecond)
	load(full.URL+"/api/v2/hosts", token, 500*time.Millisecond)
	var fulls, bares []result
	for i := range rounds {
		br := load(bare.URL, token, roundTime)
		fr := load(full.URL+"/api/v2/hosts", token, roundTime)
		fmt.Fprintf(os.Stdout, "round %d  bare net/http+pgx: %s\n", i+1, br)
		fmt.Fprintf(os.Stdout, "round %d  full SecuMon stack: %s\n", i+1, fr)
		if br.errors+fr.errors > 0 {
			b.Errorf("errors during the load: bare %d, full %d", br.errors, fr.errors)
		}
		bares, fulls = append(bares, br), append(fulls, fr)
	}
	rps := func(r result) float64 { return r.rps }
	p99 := func(r result) float64 { return ms(r.p99) }
	ratio := median(fulls, rps) / median(bares, rps)
	fmt.Fprintf(os.Stdout, "\nGET /api/v2/hosts, %d hosts, %d connections, median of %d rounds of %s:\n", hosts, connections, rounds, roundTime)
	fmt.Fprintf(os.Stdout, "  bare  %8.0f req/s  p99 %6.2f ms\n", median(bares, rps), median(bares, p99))
	fmt.Fprintf(os.Stdout, "  full  %8.0f req/s  p99 %6.2f ms\n", median(fulls, rps), median(fulls, p99))
	fmt.Fprintf(os.Stdout, "  ratio full/bare = %.2f (target >= 0.60)\n", ratio)
	b.ReportMetric(median(fulls, rps), "full-req/s")
	b.ReportMetric(median(bares, rps), "bare-req/s")
	b.ReportMetric(median(fulls, p99), "full-p99-ms")
	b.ReportMetric(ratio, "ratio")
}

// benchDB is a fresh database with the bootstrap workspace and its owner token, as a first
// start of the service leaves it.
type benchDB struct {
	pool  *pgxpool.Pool
	q     *db.Queries
	token string
	ws    uuid.UUID
}

func newBenchDB(b *testing.B) benchDB {
	b.Helper()
	ctx := context.Background()
	pool, _ := dbtest.New(b)
	token, err := admin.Bootstrap(ctx, pool, "")
	if err != nil {
		b.Fatal(err)
	}
	q := db.New(pool)
	ws, err := admin.FindWorkspace(ctx, q, "default")
	if err != nil {
		b.Fatal(err)
	}
	return benchDB{pool: pool, q: q, token: token, ws: ws.ID}
}

// addHost creates an active host on 127.0.0.1 and returns its id.
func (d benchDB) addHost(b *testing.B, name string) uuid.UUID {
	b.Helper()
	id := uuid.New()
	_, err := d.q.CreateHost(context.Background(), db.CreateHostParams{WorkspaceID: d.ws, ID: id, Name: name,
		Hostname: "127.0.0.1", HostType: "server", Tags: []byte(`{}`), IsActive: true})
	if err != nil {
		b.Fatal(err)
	}
	return id
}
