package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/probes"
	"github.com/secuaas/secumon/probes/runner/worker"
	"github.com/secuaas/secumon/server"
	"github.com/secuaas/secumon/server/testkit/dbtest"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

// pgForwarder listens on 127.0.0.1 and forwards each connection to the PostgreSQL server of
// pool (its Unix socket for the tests' own cluster): the postgres probe speaks TCP, through
// the Guard, to the real server the tests start. Close stops it (the "server down" case).
type pgForwarder struct {
	Port int
	l    net.Listener
}

func startPGForwarder(t *testing.T, pool *pgxpool.Pool) *pgForwarder {
	t.Helper()
	cc := pool.Config().ConnConfig
	network, addr := "tcp", net.JoinHostPort(cc.Host, strconv.Itoa(int(cc.Port)))
	if strings.HasPrefix(cc.Host, "/") {
		network, addr = "unix", filepath.Join(cc.Host, fmt.Sprintf(".s.PGSQL.%d", cc.Port))
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer in.Close()
				out, err := net.Dial(network, addr)
				if err != nil {
					return
				}
				defer out.Close()
				var wg sync.WaitGroup
				wg.Go(func() { _, _ = io.Copy(out, in); out.Close() })
				_, _ = io.Copy(in, out)
				in.Close()
				wg.Wait()
			}()
		}
	}()
	return &pgForwarder{Port: l.Addr().(*net.TCPAddr).Port, l: l}
}

// passwordRole creates a login role that must authenticate with password: the tests' cluster
// trusts local connections, so a pg_hba.conf line asking this role for scram-sha-256 goes
// first (removed again at the end). It needs the tests' own cluster.
func passwordRole(t *testing.T, pool *pgxpool.Pool, password string) string {
	t.Helper()
	if dbtest.Cluster() == nil {
		t.Skip("password authentication needs the tests' own cluster (pg_hba.conf), not " + dbtest.EnvURL)
	}
	ctx := context.Background()
	role := "probe_" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	_, err := pool.Exec(ctx, fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s'", role, password))
	require.NoError(t, err)
	var hbaFile string
	require.NoError(t, pool.QueryRow(ctx, "SHOW hba_file").Scan(&hbaFile))
	orig, err := os.ReadFile(hbaFile)
	require.NoError(t, err)
	line := fmt.Sprintf("local all %s scram-sha-256\nhost all %s 127.0.0.1/32 scram-sha-256\n", role, role)
	require.NoError(t, os.WriteFile(hbaFile, append([]byte(line), orig...), 0o600))
	_, err = pool.Exec(ctx, "SELECT pg_reload_conf()")
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = os.WriteFile(hbaFile, orig, 0o600)
		_, _ = pool.Exec(context.Background(), "SELECT pg_reload_conf()")
		_, _ = pool.Exec(context.Background(), "DROP ROLE IF EXISTS "+role)
	})
	return role
}

// The postgres probe against the real PostgreSQL the tests start: login with and without the
// right password, a read-only query and its row count, TLS refused by the server, a statement
// timeout, and the server down. The password never shows.
func TestPostgresProbe(t *testing.T) {
	pool, _ := dbtest.New(t)
	fwd := startPGForwarder(t, pool)
	cc := pool.Config().ConnConfig
	const password = "right-Pa55word"
	role := passwordRole(t, pool, password)
	runner := probes.NewRunner(probes.Options{})
	run := func(cfg map[string]any, timeout time.Duration) probes.Result {
		t.Helper()
		all := map[string]any{"port": fwd.Port, "database": cc.Database}
		for k, v := range cfg {
			all[k] = v
		}
		raw, err := json.Marshal(all)
		require.NoError(t, err)
		r := runner.Run(context.Background(), probes.Check{ID: uuid.New(), Type: probes.TypePostgres, Target: "127.0.0.1",
			Config: raw, Timeout: timeout})
		t.Logf("%s → %v: %s | %s | %v", raw, r.Status, r.Output, r.ErrorMsg, r.Metrics)
		assert.NotContains(t, r.Output+r.ErrorMsg, password)
		return r
	}

	// pg_reload_conf signals the postmaster: wait until the new rule applies.
	eventually(t, 5*time.Second, func() bool {
		return run(map[string]any{"user": role, "password": "wrong-" + password}, 3*time.Second).Status == probes.Critical
	}, "pg_hba.conf reloaded")

	cases := []struct {
		name   string
		cfg    map[string]any
		status probes.Status
		inText string // in the error, or the output when OK
	}{
		{"login", map[string]any{"user": role, "password": password}, probes.OK, "PostgreSQL 15"},
		{"wrong password", map[string]any{"user": role, "password": "wrong-" + password}, probes.Critical, "password authentication failed"},
		{"no password", map[string]any{"user": role}, probes.Critical, "password"},
		{"sslmode disable", map[string]any{"user": role, "password": password, "sslmode": "disable"}, probes.OK, "connected in"},
		{"sslmode require, server without TLS", map[string]any{"user": role, "password": password, "sslmode": "require"}, probes.Critical, "TLS"},
		{"query rows", map[string]any{"user": role, "password": password, "query": "SELECT generate_series(1, 3)", "expect_rows_min": 3}, probes.OK, "query returned 3 row(s)"},
		{"too few rows", map[string]any{"user": role, "password": password, "query": "SELECT generate_series(1, 3)", "expect_rows_min": 5}, probes.Critical, "query returned 3 row(s), expected at least 5"},
		{"query is read-only", map[string]any{"user": role, "password": password, "query": "CREATE TABLE probe_wrote_this (id int)"}, probes.Critical, "read-only transaction"},
		{"one statement only", map[string]any{"user": role, "password": password, "query": "COMMIT; CREATE TABLE probe_wrote_this (id int)"}, probes.Critical, "query failed"},
		{"statement timeout", map[string]any{"user": role, "password": password, "query": "SELECT pg_sleep(5)"}, probes.Critical, "statement timeout"},
		{"unknown database", map[string]any{"user": role, "password": password, "database": "nope_db"}, probes.Critical, "nope_db"},
		{"server down", map[string]any{"user": role, "password": password, "port": freeTCPPort(t)}, probes.Critical, "refused"},
		{"disallowed", map[string]any{"host": "192.0.2.1"}, probes.Unknown, "SECUMON_PROBE_ALLOW"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			timeout := 3 * time.Second
			if tc.name == "statement timeout" {
				timeout = time.Second
			}
			r := run(tc.cfg, timeout)
			require.Equal(t, tc.status, r.Status, "%s | %s", r.Output, r.ErrorMsg)
			text := r.ErrorMsg
			if tc.status == probes.OK {
				text = r.Output
			}
			assert.Contains(t, text, tc.inText)
		})
	}
	var exists bool
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT to_regclass('probe_wrote_this') IS NOT NULL").Scan(&exists))
	assert.False(t, exists, "the probe's queries wrote nothing")
}

func freeTCPPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// The new check types through the real stack: a grpc check created with the SDK against a
// real grpc-go health server on loopback, run now, read back through the API as the server's
// health status flips; a postgres check whose password the API masks and keeps.
func TestNewCheckTypesEndToEnd(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	gs := grpc.NewServer()
	hs := health.NewServer()
	healthpb.RegisterHealthServer(gs, hs)
	hs.SetServingStatus("shop.Orders", healthpb.HealthCheckResponse_SERVING)
	go gs.Serve(l) //nolint:errcheck // ends with Stop
	t.Cleanup(gs.Stop)

	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	servertest.Run(t, server.Deps{Pool: env.Pool, Worker: &worker.Options{Name: "e2e", Location: "loopback", PollEvery: 50 * time.Millisecond,
		Runner: probes.NewRunner(probes.Options{})}})

	h, err := c.CreateHostWithResponse(ctx, nil, client.HostCreate{Name: "orders", Hostname: "127.0.0.1"})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, h.StatusCode(), string(h.Body))
	r, err := c.CreateCheckWithResponse(ctx, nil, client.NewCheckCreate(client.GrpcCheckCreate{HostId: h.JSON201.Id, Name: "orders health",
		TimeoutSec: ptr(5), Config: client.GrpcConfig{Port: l.Addr().(*net.TCPAddr).Port, Service: ptr("shop.Orders")}}))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), string(r.Body))
	check := r.JSON201
	assert.Equal(t, client.CheckTypeGrpc, check.CheckType)

	runNow := func() client.CheckResult {
		t.Helper()
		run, err := c.RunCheckWithResponse(ctx, check.Id, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusAccepted, run.StatusCode(), string(run.Body))
		var last *client.CheckResult
		eventually(t, 20*time.Second, func() bool {
			r, err := c.GetCheckLastResultWithResponse(ctx, check.Id, nil)
			if err == nil && r.JSON200 != nil && r.JSON200.RunId != nil && *r.JSON200.RunId == run.JSON202.RunId {
				last = r.JSON200
			}
			return last != nil
		}, "the run-now result")
		return *last
	}
	res := runNow()
	assert.Equal(t, client.CheckStatus(probes.OK), res.Status, "%s %s", res.Output, res.ErrorMsg)
	assert.Contains(t, res.Output, `service "shop.Orders": SERVING`)

	hs.SetServingStatus("shop.Orders", healthpb.HealthCheckResponse_NOT_SERVING)
	res = runNow()
	assert.Equal(t, client.CheckStatus(probes.Critical), res.Status, res.Output)
	assert.Equal(t, `health status NOT_SERVING for service "shop.Orders"`, res.ErrorMsg)

	// A postgres check: the password is write-only, masked in answers, kept when sent back masked.
	pr, err := c.CreateCheckWithResponse(ctx, nil, client.NewCheckCreate(client.PostgresCheckCreate{HostId: h.JSON201.Id, Name: "orders db",
		Config: &client.PostgresConfig{User: ptr("monitor"), Password: ptr("hunter2-secret"), SSLMode: ptr(client.PostgresSslVerifyFull)}}))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, pr.StatusCode(), string(pr.Body))
	assert.NotContains(t, string(pr.Body), "hunter2-secret")
	cfg, err := pr.JSON201.TypedConfig()
	require.NoError(t, err)
	assert.Equal(t, "********", *cfg.(client.PostgresConfig).Password)

	bad, err := c.CreateCheckWithResponse(ctx, nil, client.NewCheckCreate(client.PostgresCheckCreate{HostId: h.JSON201.Id, Name: "bad db",
		Config: &client.PostgresConfig{SSLMode: ptr(client.PostgresConfigSslmode("allow"))}}))
	require.NoError(t, err)
	require.Equal(t, http.StatusBadRequest, bad.StatusCode(), string(bad.Body))
	assert.Contains(t, string(bad.Body), "config.sslmode")

	var stored string
	require.NoError(t, env.Pool.QueryRow(ctx, "SELECT config->>'password' FROM checks WHERE id = $1", pr.JSON201.Id).Scan(&stored))
	assert.Equal(t, "hunter2-secret", stored)
	up, err := c.UpdateCheckWithResponse(ctx, pr.JSON201.Id, nil, client.CheckUpdate{Config: client.NewCheckConfig(client.PostgresConfig{
		User: ptr("monitor"), Password: ptr("********"), Query: ptr("SELECT 1")})})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, up.StatusCode(), string(up.Body))
	require.NoError(t, env.Pool.QueryRow(ctx, "SELECT config->>'password' FROM checks WHERE id = $1", pr.JSON201.Id).Scan(&stored))
	assert.Equal(t, "hunter2-secret", stored, "the masked password sent back keeps the stored one")
}
