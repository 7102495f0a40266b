package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/probes/runner/worker"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

// apiServer serves the API without an embedded probe worker, its background parts running
// (among them the digester of remote workers' results), as `secumon serve --no-worker` does.
func apiServer(t *testing.T) *servertest.Env {
	t.Helper()
	env := servertest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- env.App.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return env
}

// startRemoteWorker runs `secumon worker --server … --token …` with no database settings at
// all; its log goes to a file shown when the test fails.
func startRemoteWorker(t *testing.T, bin, server, token, name, spool string, extra ...string) *exec.Cmd {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != "DATABASE_URL" && !strings.HasPrefix(k, "SECUMON_") {
			env = append(env, kv)
		}
	}
	env = append(env, "SECUMON_WORKER_TOKEN="+token, "HOME="+t.TempDir())
	logFile, err := os.Create(filepath.Join(t.TempDir(), name+".log"))
	require.NoError(t, err)
	cmd := exec.Command(bin, append([]string{"worker", "--server", server, "--worker-name", name,
		"--spool-dir", spool, "--log-level", "debug"}, extra...)...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			log, _ := os.ReadFile(logFile.Name())
			t.Logf("worker %s log:\n%s", name, log)
		}
	})
	return cmd
}

func stopProcess(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	require.NoError(t, interrupt(t, cmd, 30*time.Second), "a remote worker exits 0 on SIGINT")
}

// httpTarget is a loopback HTTP server that answers 200.
func httpTarget(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	t.Cleanup(srv.Close)
	return srv.URL
}

// remoteSetup makes a worker token and an HTTP check of a loopback target.
func remoteSetup(t *testing.T, env *servertest.Env) (c *client.Client, token *client.WorkerToken, check uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	c, err := client.New(env.URL, client.WithToken(env.OwnerToken))
	require.NoError(t, err)
	token, err = c.WorkerTokens.Create(ctx, client.WorkerTokenCreate{Name: "edge"})
	require.NoError(t, err)
	host, err := c.Hosts.Create(ctx, client.HostCreate{Name: "loopback", Hostname: "127.0.0.1"})
	require.NoError(t, err)
	ck, err := c.Checks.Create(ctx, client.NewCheckCreate(client.HttpCheckCreate{HostId: host.Id, Name: "web", Config: client.HttpConfig{URL: httpTarget(t) + "/health"}}))
	require.NoError(t, err)
	return c, token, ck.Id
}

// A remote worker process with a worker token and no database credentials runs a
// workspace's HTTP check: its results appear as the check's last result under its worker id,
// and run-now requests reach it through its claims.
func TestRemoteWorkerProcess(t *testing.T) {
	env := apiServer(t)
	ctx := context.Background()
	c, token, check := remoteSetup(t, env)
	bin := buildSecumon(t)
	metricsAddr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	proc := startRemoteWorker(t, bin, env.URL, *token.Token, "edge-1", t.TempDir(), "--worker-location", "loopback", "--metrics-addr", metricsAddr)
	workerID := worker.RemoteIDFor(token.Id, "edge-1")

	var last *client.CheckResult
	require.Eventually(t, func() bool {
		r, err := c.Checks.LastResult(ctx, check)
		if err != nil {
			return false
		}
		last = r
		return true
	}, 60*time.Second, 200*time.Millisecond, "the remote worker's result reaches the server")
	assert.Equal(t, client.CheckStatus(0), last.Status, last.ErrorMsg)
	require.NotNil(t, last.WorkerId)
	assert.Equal(t, workerID, *last.WorkerId)

	runCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	run, err := c.Checks.RunAndWait(runCtx, check)
	require.NoError(t, err, "a run-now request reaches the remote worker")
	assert.Equal(t, workerID, *run.WorkerId)

	workers, err := c.Workers.List(ctx)
	require.NoError(t, err)
	require.Len(t, workers, 1)
	assert.Equal(t, workerID, workers[0].Id)
	assert.Equal(t, "loopback", workers[0].Location)

	res, err := http.Get("http://" + metricsAddr + "/metrics")
	require.NoError(t, err)
	exposition, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Contains(t, string(exposition), `secumon_check_runs_total{status="OK",type="http"}`, "the remote worker's own metrics")
	stopProcess(t, proc)
}

// flakyProxy stands between a remote worker and its server: while down, result batches find
// no server (the connection is cut); loseNext lets the next batch reach the server but cuts
// its answer. It records the run ids of every batch it saw.
type flakyProxy struct {
	proxy    *httputil.ReverseProxy
	down     atomic.Bool
	loseNext atomic.Bool
	mu       sync.Mutex
	seen     map[uuid.UUID]bool
	refused  int
	lost     int
}

func (p *flakyProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/worker/results") {
		p.proxy.ServeHTTP(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var batch client.WorkerResultBatch
	_ = json.Unmarshal(body, &batch)
	p.mu.Lock()
	for _, res := range batch.Results {
		p.seen[res.RunId] = true
	}
	p.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(body))
	cut := func() {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}
	switch {
	case p.down.Load():
		p.mu.Lock()
		p.refused++
		p.mu.Unlock()
		cut()
	case p.loseNext.CompareAndSwap(true, false):
		rec := httptest.NewRecorder()
		p.proxy.ServeHTTP(rec, r) // stored by the server…
		p.mu.Lock()
		p.lost++
		p.mu.Unlock()
		cut() // …but the worker never hears so
	default:
		p.proxy.ServeHTTP(w, r)
	}
}

// A remote worker whose server goes away keeps its results in its spool and sends them when
// the server is back: every result arrives, once, even the batch whose answer was lost.
func TestRemoteWorkerSpoolsWhileTheServerIsAway(t *testing.T) {
	env := apiServer(t)
	ctx := context.Background()
	_, token, check := remoteSetup(t, env)
	// A run a second, below the API's floor, so the outage spans several runs.
	_, err := env.Pool.Exec(ctx, `UPDATE checks SET interval_sec = 1 WHERE id = $1`, check)
	require.NoError(t, err)
	upstream, err := url.Parse(env.URL)
	require.NoError(t, err)
	fp := &flakyProxy{proxy: httputil.NewSingleHostReverseProxy(upstream), seen: map[uuid.UUID]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	proxySrv := &http.Server{Handler: fp}
	go func() { _ = proxySrv.Serve(ln) }()
	t.Cleanup(func() { _ = proxySrv.Close() })

	spool := t.TempDir()
	proc := startRemoteWorker(t, buildSecumon(t), "http://"+ln.Addr().String(), *token.Token, "edge-spool", spool, "--worker-location", "loopback")
	stored := func() (rows, runs int) {
		require.NoError(t, env.Pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT run_id) FROM check_results WHERE check_id = $1`, check).Scan(&rows, &runs))
		return rows, runs
	}
	require.Eventually(t, func() bool { n, _ := stored(); return n > 0 }, 60*time.Second, 100*time.Millisecond, "results flow before the outage")

	fp.down.Store(true)
	time.Sleep(4 * time.Second) // runs go on; their batches are refused and spooled
	before, _ := stored()
	spooled, _ := os.ReadDir(spool)
	assert.NotEmpty(t, spooled, "batches wait in the spool while the server is away")
	fp.loseNext.Store(true)
	fp.down.Store(false)

	// Every run the worker sent, in any attempt, ends up stored exactly once.
	require.Eventually(t, func() bool {
		fp.mu.Lock()
		want := make([]uuid.UUID, 0, len(fp.seen))
		for id := range fp.seen {
			want = append(want, id)
		}
		fp.mu.Unlock()
		var have int
		require.NoError(t, env.Pool.QueryRow(ctx, `SELECT count(DISTINCT run_id) FROM check_results WHERE check_id = $1 AND run_id = ANY($2)`, check, want).Scan(&have))
		return have == len(want)
	}, 60*time.Second, 200*time.Millisecond, "the spooled results arrive once the server is back")
	stopProcess(t, proc)

	rows, runs := stored()
	assert.Equal(t, runs, rows, "no result is stored twice")
	assert.Greater(t, rows, before, "the results of the outage arrived")
	fp.mu.Lock()
	assert.Positive(t, fp.refused, "some batches met the outage")
	assert.Equal(t, 1, fp.lost, "one batch's answer was lost, and it was sent again")
	assert.Equal(t, len(fp.seen), runs, "every run the worker sent is stored")
	fp.mu.Unlock()
	left, _ := os.ReadDir(spool)
	assert.Empty(t, left, "acknowledged batches leave the spool")
}

// A remote worker under a token pinned to a location (made with `secumon token worker
// --location`): one that names another location stops at once, saying why, instead of
// retrying, and is not registered; one that names none works in the token's location, runs
// that location's check and files its results there.
func TestRemoteWorkerPinnedToken(t *testing.T) {
	env := apiServer(t)
	ctx := context.Background()
	c, err := client.New(env.URL, client.WithToken(env.OwnerToken))
	require.NoError(t, err)
	paris := "Paris DC"
	bin := buildSecumon(t)
	// The operator's command line makes the pinned token.
	mint := exec.Command(bin, "token", "worker", "--workspace", "default", "--name", "paris-probe", "--location", paris)
	mint.Env = append(os.Environ(), "DATABASE_URL="+env.Pool.Config().ConnString())
	var stdout, stderr bytes.Buffer
	mint.Stdout, mint.Stderr = &stdout, &stderr
	require.NoError(t, mint.Run(), stderr.String())
	assert.Contains(t, stderr.String(), `location "Paris DC"`)
	secret := strings.TrimSpace(stdout.String())
	tokens, err := c.WorkerTokens.List(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, tokens.Count)
	token := tokens.WorkerTokens[0]
	require.NotNil(t, token.Location)
	assert.Equal(t, paris, *token.Location)
	host, err := c.Hosts.Create(ctx, client.HostCreate{Name: "loopback", Hostname: "127.0.0.1"})
	require.NoError(t, err)
	check, err := c.Checks.Create(ctx, client.NewCheckCreate(client.HttpCheckCreate{HostId: host.Id, Name: "web from Paris",
		Config: client.HttpConfig{URL: httpTarget(t) + "/health"}, Locations: &[]client.LocationName{paris}}))
	require.NoError(t, err)

	wrong := startRemoteWorker(t, bin, env.URL, secret, "edge-london", t.TempDir(), "--worker-location", "London")
	exited := make(chan error, 1)
	go func() { exited <- wrong.Wait() }()
	select {
	case err := <-exited:
		assert.Error(t, err, "a refused worker exits non-zero")
	case <-time.After(30 * time.Second):
		t.Fatal("a worker its pinned token refuses keeps retrying")
	}
	log, err := os.ReadFile(wrong.Stderr.(*os.File).Name())
	require.NoError(t, err)
	assert.Contains(t, string(log), `refused --worker-location "London"`)
	assert.Contains(t, string(log), `pinned to location "Paris DC"`, "the message names the token's location")

	proc := startRemoteWorker(t, bin, env.URL, secret, "edge-paris", t.TempDir())
	workerID := worker.RemoteIDFor(token.Id, "edge-paris")
	require.Eventually(t, func() bool {
		r, err := c.Raw().GetCheckLastResultWithResponse(ctx, check.Id, &client.GetCheckLastResultParams{Location: &paris})
		return err == nil && r.JSON200 != nil && r.JSON200.WorkerId != nil && *r.JSON200.WorkerId == workerID
	}, 60*time.Second, 200*time.Millisecond, "the worker runs the token's location's check and its result is filed there")
	workers, err := c.Workers.List(ctx)
	require.NoError(t, err)
	require.Len(t, workers, 1, "the refused worker was never registered")
	assert.Equal(t, workerID, workers[0].Id)
	assert.Equal(t, paris, workers[0].Location, "a worker that names no location is in its token's")
	stopProcess(t, proc)
}
