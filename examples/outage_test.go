package examples_test

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/server/testkit/dbtest"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

// statusLog is a transport that records the status of every answer.
type statusLog struct {
	mu       sync.Mutex
	statuses map[string][]int // by method
}

func (l *statusLog) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		l.mu.Lock()
		l.statuses[r.Method] = append(l.statuses[r.Method], resp.StatusCode)
		l.mu.Unlock()
	}
	return resp, err
}

func (l *statusLog) of(method string) []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]int(nil), l.statuses[method]...)
}

// TestSDKRidesOutADatabaseOutage kills PostgreSQL under a running service while SDK calls are
// made: the server answers 503 with Retry-After, the SDK waits and retries, and both a GET
// and a create (a POST, safe to repeat thanks to its Idempotency-Key) succeed once the
// database is back, the create exactly once.
func TestSDKRidesOutADatabaseOutage(t *testing.T) {
	cluster := dbtest.Cluster()
	if cluster == nil {
		t.Skip("needs the harness's own PostgreSQL (SECUMON_TEST_DATABASE_URL is set)")
	}
	env := servertest.Start(t)
	log := &statusLog{statuses: map[string][]int{}}
	c, err := client.New(env.URL, client.WithToken(env.OwnerToken),
		client.WithHTTPClient(&http.Client{Transport: log}),
		client.WithRetry(client.RetryPolicy{MaxAttempts: 8, MinBackoff: 100 * time.Millisecond, MaxBackoff: 2 * time.Second}))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	before, err := c.Hosts.Create(ctx, client.HostCreate{Name: "before-outage", Hostname: "127.0.0.1"})
	require.NoError(t, err)

	require.NoError(t, cluster.Kill())
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			_ = cluster.StartAgain(context.Background())
		}
	})

	var (
		wg      sync.WaitGroup
		got     *client.Host
		getErr  error
		created *client.Host
		postErr error
	)
	wg.Go(func() { got, getErr = c.Hosts.Get(ctx, before.Id) })
	wg.Go(func() {
		created, postErr = c.Hosts.Create(ctx, client.HostCreate{Name: "during-outage", Hostname: "127.0.0.1"})
	})

	// Both calls meet the outage before the database comes back.
	require.Eventually(t, func() bool {
		return slices.Contains(log.of(http.MethodGet), http.StatusServiceUnavailable) &&
			slices.Contains(log.of(http.MethodPost), http.StatusServiceUnavailable)
	}, 20*time.Second, 20*time.Millisecond, "the calls see the outage")
	time.Sleep(500 * time.Millisecond)
	require.NoError(t, cluster.StartAgain(ctx))
	restarted = true
	wg.Wait()

	require.NoError(t, getErr)
	assert.Equal(t, before.Id, got.Id)
	require.NoError(t, postErr)
	assert.Equal(t, "during-outage", created.Name)
	assert.Equal(t, http.StatusOK, last(log.of(http.MethodGet)))
	assert.Equal(t, http.StatusCreated, last(log.of(http.MethodPost)))

	names := map[string]int{}
	for h, err := range c.Hosts.All(ctx, nil) {
		require.NoError(t, err)
		names[h.Name]++
	}
	assert.Equal(t, map[string]int{"before-outage": 1, "during-outage": 1}, names, "the create acted once")
}

func last(statuses []int) int {
	if len(statuses) == 0 {
		return 0
	}
	return statuses[len(statuses)-1]
}
