package main

import (
	"io"
	"net/http"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The embedded PostgreSQL is supervised: killed with SIGKILL under a running `secumon serve`,
// it is back within seconds, /readyz says so, and the API answers again, with no restart of
// secumon; its metrics (SECUMON_METRICS_ADDR) count the restart.
func TestEmbeddedPostgresComesBackAfterAKill(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "secumon")
	build := osexec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	dataDir, err := os.MkdirTemp("/tmp", "smn-sup")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dataDir) })
	require.NoError(t, os.Chmod(dataDir, 0o755)) // as root, PostgreSQL runs as postgres
	metricsAddr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	metricsURL := "http://" + metricsAddr + "/metrics"
	env := append(os.Environ(), "SECUMON_DATA_DIR="+dataDir, "SECUMON_NO_WORKER=true", "DATABASE_URL=", "SECUMON_METRICS_ADDR="+metricsAddr)
	proc, url := startServe(t, bin, env)
	t.Cleanup(func() {
		// A clean stop of serve stops the PostgreSQL it supervises.
		_ = proc.Process.Signal(syscall.SIGTERM)
		_ = proc.Wait()
	})
	token, err := os.ReadFile(filepath.Join(dataDir, "owner.token"))
	require.NoError(t, err)

	ready := func() int { return get(t, url+"/readyz", "") }
	hosts := func() int { return get(t, url+"/api/v2/hosts", strings.TrimSpace(string(token))) }
	require.Equal(t, http.StatusOK, ready())
	require.Equal(t, http.StatusOK, hosts())
	restarts := func() string {
		resp, err := http.Get(metricsURL)
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "secumon_embedded_postgres_restarts_total ") {
				return line
			}
		}
		return "no restart counter"
	}
	require.Equal(t, "secumon_embedded_postgres_restarts_total 0", restarts())

	pidFile := filepath.Join(dataDir, "postgres", "pgdata", "postmaster.pid")
	pid := readPID(t, pidFile)
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	killed := time.Now()
	// Backends outlive their postmaster for a moment: wait for a new postmaster, then for the
	// API to answer through it.
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(pidFile)
		r, h := ready(), hosts()
		return err == nil && !strings.HasPrefix(string(b), strconv.Itoa(pid)+"\n") && r == http.StatusOK && h == http.StatusOK
	}, 30*time.Second, 200*time.Millisecond, "the API did not come back after PostgreSQL was killed")
	t.Logf("back %v after the kill", time.Since(killed).Round(time.Millisecond))
	// The supervisor counts the restart once `pg_ctl start -w` has seen the server ready, a
	// poll after the server already answers the API: the count may follow by a moment.
	require.Eventually(t, func() bool { return restarts() == "secumon_embedded_postgres_restarts_total 1" }, 5*time.Second, 100*time.Millisecond,
		"the restart was not counted exactly once")
}

// PostgreSQL killed the moment `secumon serve` has printed its banner, before the background
// parts (River's client, the probe worker) have reached it: the parts wait for the database
// instead of ending the process, and the API comes back once the supervisor has restarted it.
// The postmaster and its backends are killed at once, so no connection opened before the
// banner survives to hide the outage from a part that is just starting.
func TestServeSurvivesPostgresKilledRightAfterStart(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "secumon")
	build := osexec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	dataDir, err := os.MkdirTemp("/tmp", "smn-race")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dataDir) })
	require.NoError(t, os.Chmod(dataDir, 0o755)) // as root, PostgreSQL runs as postgres
	// With the probe worker (the default), whose start also reads the database.
	env := append(os.Environ(), "SECUMON_DATA_DIR="+dataDir, "SECUMON_NO_WORKER=", "DATABASE_URL=")
	proc, url := startServe(t, bin, env)
	pid := readPID(t, filepath.Join(dataDir, "postgres", "pgdata", "postmaster.pid"))
	killTree(t, pid)
	killed := time.Now()

	exited := make(chan error, 1)
	go func() { exited <- proc.Wait() }()
	t.Cleanup(func() {
		_ = proc.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(60 * time.Second):
		}
	})
	token, err := os.ReadFile(filepath.Join(dataDir, "owner.token"))
	require.NoError(t, err)
	hosts := func() int { return get(t, url+"/api/v2/hosts", strings.TrimSpace(string(token))) }
	for deadline := time.Now().Add(45 * time.Second); get(t, url+"/readyz", "") != http.StatusOK || hosts() != http.StatusOK; {
		require.True(t, time.Now().Before(deadline), "the API did not come back after PostgreSQL was killed")
		select {
		case err := <-exited:
			t.Fatalf("secumon serve exited after PostgreSQL was killed: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
	t.Logf("back %v after the kill", time.Since(killed).Round(time.Millisecond))

	// Still running a while later: no part ended the process once the database was back.
	select {
	case err := <-exited:
		t.Fatalf("secumon serve exited after the API came back: %v", err)
	case <-time.After(3 * time.Second):
	}
}

// killTree sends SIGKILL to pid and to its children (a postmaster's backends and helpers),
// found before the kill: once their parent is dead they are reparented.
func killTree(t *testing.T, pid int) {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	require.NoError(t, err)
	var children []int
	for _, stat := range stats {
		b, err := os.ReadFile(stat)
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid …: comm may hold spaces, so read after its closing paren.
		fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			child, _ := strconv.Atoi(filepath.Base(filepath.Dir(stat)))
			children = append(children, child)
		}
	}
	require.NotEmpty(t, children, "postmaster %d has no backends", pid)
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	for _, child := range children {
		_ = syscall.Kill(child, syscall.SIGKILL)
	}
}

func get(t *testing.T, url, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func readPID(t *testing.T, file string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	require.NoError(t, err)
	return pid
}
