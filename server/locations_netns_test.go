package server_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/probes"
	"github.com/secuaas/secumon/probes/runner/worker"
	"github.com/secuaas/secumon/server"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

// netns is a network namespace the test creates, joined to the host's by a veth pair in a
// /30 of its own (host side .1, namespace side .2). Its loopback stays down: nothing in it
// reaches 127.0.0.1 of the host, or anything else.
type netns struct {
	name, hostIP, nsIP string
}

// newNetns creates the namespace, or skips the test where namespaces cannot be made.
func newNetns(t *testing.T) netns {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("network namespaces need the ip command (iproute2)")
	}
	pid := os.Getpid()
	// A /30 in 10.213.0.0/16 per test process, so that parallel runs do not collide.
	sub := pid % 16384
	octets := fmt.Sprintf("10.213.%d.", sub/64)
	n := netns{name: fmt.Sprintf("smn-loc-%d", pid),
		hostIP: octets + fmt.Sprint((sub%64)*4+1), nsIP: octets + fmt.Sprint((sub%64)*4+2)}
	hostIf, nsIf := fmt.Sprintf("smh%d", pid), fmt.Sprintf("smn%d", pid)
	ip := func(args ...string) error {
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := ip("netns", "add", n.name); err != nil {
		t.Skipf("cannot create a network namespace here: %v", err)
	}
	t.Cleanup(func() {
		_ = ip("link", "del", hostIf) // removes both ends of the pair
		_ = ip("netns", "del", n.name)
	})
	for _, args := range [][]string{
		{"link", "add", hostIf, "type", "veth", "peer", "name", nsIf},
		{"link", "set", nsIf, "netns", n.name},
		{"addr", "add", n.hostIP + "/30", "dev", hostIf},
		{"link", "set", hostIf, "up"},
		{"-n", n.name, "addr", "add", n.nsIP + "/30", "dev", nsIf},
		{"-n", n.name, "link", "set", nsIf, "up"},
	} {
		require.NoError(t, ip(args...))
	}
	return n
}

// forward serves on addr a TCP forwarder to PostgreSQL's unix socket, so that a process in
// the namespace reaches the test database through the veth; it returns the port.
func forward(t *testing.T, addr, socket string) int {
	t.Helper()
	ln, err := net.Listen("tcp", addr+":0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer in.Close()
				out, err := net.Dial("unix", socket)
				if err != nil {
					return
				}
				defer out.Close()
				go func() { _, _ = io.Copy(out, in) }()
				_, _ = io.Copy(in, out)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// The location test of issue 17 with real processes: three workers in three locations (a
// database worker in this process, a remote `secumon worker --server … --token …` process
// over HTTP, and a `secumon worker` process inside a network namespace that cannot reach the
// target) run an HTTP check pinned to the three with
// confirm_locations 2. Only the namespaced location failing opens nothing; the target
// failing for all opens an incident that names the failing locations; results and the
// last-result filter show each location.
func TestLocationsNOfMWithNamespacedWorker(t *testing.T) {
	ns := newNetns(t)
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()

	var failing atomic.Bool
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if failing.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(target.Close)

	bin := filepath.Join(t.TempDir(), "secumon")
	build := exec.Command("go", "build", "-o", bin, "github.com/secuaas/secumon/cmd/secumon")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))
	// site-a: a database worker in this process.
	servertest.Run(t, server.Deps{Pool: env.Pool, Worker: &worker.Options{Name: "w-site-a", Location: "site-a",
		PollEvery: 100 * time.Millisecond, Runner: probes.NewRunner(probes.Options{})}})
	// site-b: a remote worker process with only a worker token (its results are digested by
	// site-a's digester, as any database worker's digester takes every batch).
	sdk, err := client.New(env.URL, client.WithToken(env.OwnerToken))
	require.NoError(t, err)
	token, err := sdk.WorkerTokens.Create(ctx, client.WorkerTokenCreate{Name: "site-b"})
	require.NoError(t, err)
	var noDB []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != "DATABASE_URL" && !strings.HasPrefix(k, "SECUMON_") {
			noDB = append(noDB, kv)
		}
	}
	remote := startProcess(t, "remote worker", exec.Command(bin, "worker", "--server", env.URL, "--worker-name", "w-site-b",
		"--worker-location", "site-b", "--spool-dir", t.TempDir()),
		append(noDB, "SECUMON_WORKER_TOKEN="+*token.Token, "HOME="+t.TempDir()))
	// isolated: a `secumon worker` process in the namespace, reaching PostgreSQL through a
	// forwarder on the veth's host side.
	cc := env.Pool.Config().ConnConfig
	require.True(t, strings.HasPrefix(cc.Host, "/"), "the test database listens on a unix socket")
	port := forward(t, ns.hostIP, filepath.Join(cc.Host, fmt.Sprintf(".s.PGSQL.%d", cc.Port)))
	dsn := fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cc.User, ns.hostIP, port, cc.Database)
	isolated := startProcess(t, "namespaced worker", exec.Command("ip", "netns", "exec", ns.name, bin, "worker",
		"--worker-name", "w-isolated", "--worker-location", "isolated"),
		append(os.Environ(), "DATABASE_URL="+dsn, "SECUMON_DATA_DIR="+t.TempDir()))

	h, err := c.CreateHostWithResponse(ctx, nil, client.HostCreate{Name: "target", Hostname: "127.0.0.1"})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, h.StatusCode(), string(h.Body))
	all := []string{"site-a", "site-b", "isolated"}
	r, err := c.CreateCheckWithResponse(ctx, nil, client.NewCheckCreate(client.HttpCheckCreate{HostId: h.JSON201.Id, Name: "web",
		Config: client.HttpConfig{URL: target.URL + "/"}, IntervalSec: ptr(10), TimeoutSec: ptr(3), FailureThreshold: ptr(2),
		Locations: &all, ConfirmLocations: ptr(2)}))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), string(r.Body))
	ck := *r.JSON201

	since := time.Now().Add(-time.Minute)
	results := func(loc string) []client.MetricPoint {
		m, err := c.GetCheckMetricsWithResponse(ctx, &client.GetCheckMetricsParams{CheckId: ck.Id, Location: &loc, From: &since})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, m.StatusCode(), string(m.Body))
		return m.JSON200.Results
	}
	lastAt := func(loc string) client.CheckResult {
		l, err := c.GetCheckLastResultWithResponse(ctx, ck.Id, &client.GetCheckLastResultParams{Location: &loc})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, l.StatusCode(), string(l.Body))
		return *l.JSON200
	}
	incidents := func() []client.Incident {
		all := client.ListIncidentsParamsStatusAll
		l, err := c.ListIncidentsWithResponse(ctx, &client.ListIncidentsParams{Status: &all, HostId: &ck.HostId})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, l.StatusCode(), string(l.Body))
		return l.JSON200.Incidents
	}

	// Phase 1: only the namespaced location fails. After three runs in every location (well
	// past failure_threshold there), no incident.
	eventually(t, 60*time.Second, func() bool {
		return len(results("site-a")) >= 3 && len(results("site-b")) >= 3 && len(results("isolated")) >= 3
	}, "three runs in each location")
	time.Sleep(time.Second) // the digest of the last results
	for _, loc := range []string{"site-a", "site-b"} {
		res := lastAt(loc)
		assert.Equal(t, client.CheckStatus(0), res.Status, "%s: %s %v", loc, res.Output, res.ErrorMsg)
		assert.Equal(t, loc, *res.Location)
		require.NotNil(t, res.WorkerId)
	}
	iso := lastAt("isolated")
	assert.Equal(t, client.CheckStatus(2), iso.Status, "the namespace cannot reach the target: %s", iso.Output)
	assert.Equal(t, "isolated", *iso.Location)
	for _, p := range results("isolated") {
		assert.Equal(t, client.CheckStatus(2), *p.Status)
	}
	assert.Empty(t, incidents(), "1 of 3 locations failing confirms nothing")
	// The three locations each have their live worker.
	wl, err := c.ListWorkerLocationsWithResponse(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, wl.StatusCode(), string(wl.Body))
	live := map[string]int{}
	for _, l := range *wl.JSON200 {
		live[l.Location] = l.LiveWorkers
		if l.Location != "" {
			assert.NotEqual(t, client.WorkerLocationStatusNoWorker, l.Status, l.Location)
		}
	}
	assert.Equal(t, map[string]int{"site-a": 1, "site-b": 1, "isolated": 1}, live)

	// Phase 2: the target fails for everyone: the incident opens, naming the failing
	// locations (at least two of the three).
	failing.Store(true)
	var opened client.Incident
	eventually(t, 60*time.Second, func() bool {
		for _, i := range incidents() {
			if i.CheckId != nil && *i.CheckId == ck.Id {
				opened = i
				return true
			}
		}
		return false
	}, "the incident once the target fails everywhere")
	require.NotNil(t, opened.Description)
	desc := *opened.Description
	assert.Regexp(t, `[23] of 3 locations: `, desc)
	assert.Contains(t, desc, "isolated")
	named := 0
	for _, loc := range all {
		if strings.Contains(desc, loc) {
			named++
		}
	}
	assert.GreaterOrEqual(t, named, 2, desc)
	for _, loc := range []string{"site-a", "site-b"} {
		eventually(t, 30*time.Second, func() bool { return lastAt(loc).Status == client.CheckStatus(2) }, loc+" failing")
	}

	// The bucketed metrics with a location read that location's results only.
	gran := client.GetCheckMetricsParamsGranularity1Min
	loc := "isolated"
	m, err := c.GetCheckMetricsWithResponse(ctx, &client.GetCheckMetricsParams{CheckId: ck.Id, Location: &loc, From: &since, Granularity: &gran})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, m.StatusCode(), string(m.Body))
	total, critical := 0, 0
	for _, p := range m.JSON200.Results {
		total += *p.Samples
		critical += *p.Critical
	}
	assert.Positive(t, total)
	assert.Equal(t, total, critical, "every result from the namespace failed")

	remote.requireRunning(t)
	isolated.requireRunning(t)
}

// process is a worker process the test started; its output is shown when the test fails.
type process struct {
	what   string
	logs   *strings.Builder
	exited chan struct{}
	err    error
}

// startProcess starts cmd with env and stops it (SIGTERM, then SIGKILL) when the test ends.
func startProcess(t *testing.T, what string, cmd *exec.Cmd, env []string) *process {
	t.Helper()
	p := &process{what: what, logs: &strings.Builder{}, exited: make(chan struct{})}
	cmd.Env, cmd.Stdout, cmd.Stderr = env, p.logs, p.logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("%s:\n%s", what, p.logs.String())
		}
	})
	return p
}

// requireRunning fails the test when the process has exited.
func (p *process) requireRunning(t *testing.T) {
	t.Helper()
	select {
	case <-p.exited:
		t.Fatalf("the %s exited: %v\n%s", p.what, p.err, p.logs.String())
	default:
	}
}
