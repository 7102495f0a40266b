package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/server/testkit/dbtest"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

// TestDatabaseOutage kills PostgreSQL under a running service: requests answer 503 with
// Retry-After promptly (no hang, no 500), and the service serves again, without a restart,
// once PostgreSQL is back.
func TestDatabaseOutage(t *testing.T) {
	cluster := dbtest.Cluster()
	if cluster == nil {
		t.Skip("needs the harness's own PostgreSQL (SECUMON_TEST_DATABASE_URL is set)")
	}
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()
	createHost(t, c, "survivor")

	require.NoError(t, cluster.Kill())
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			_ = cluster.StartAgain(context.Background())
		}
	})

	for i := 0; i < 3; i++ {
		start := time.Now()
		r, err := c.ListHostsWithResponse(ctx, nil)
		require.NoError(t, err)
		assert.Equal(t, http.StatusServiceUnavailable, r.StatusCode(), string(r.Body))
		assert.Equal(t, "application/problem+json", r.HTTPResponse.Header.Get("Content-Type"))
		assert.NotEmpty(t, r.HTTPResponse.Header.Get("Retry-After"))
		assert.Less(t, time.Since(start), 10*time.Second, "an outage answers promptly")
	}
	ready, err := http.Get(env.URL + "/readyz")
	require.NoError(t, err)
	ready.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, ready.StatusCode)

	require.NoError(t, cluster.StartAgain(ctx))
	restarted = true
	require.Eventually(t, func() bool {
		r, err := c.ListHostsWithResponse(ctx, nil)
		return err == nil && r.StatusCode() == http.StatusOK && r.JSON200.Count == 1
	}, 20*time.Second, 200*time.Millisecond, "the service recovers by itself")
}
