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
	require.Equal(t, "secumon_embedded_postgres_restarts_total 1", restarts())
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
