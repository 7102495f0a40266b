package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// flaky answers its first `failures` requests with `status` (or by dropping the connection
// when status is 0), then like a healthy server; it records what it received.
type flaky struct {
	mu         sync.Mutex
	failures   int
	status     int
	retryAfter string
	requests   []*http.Request
	bodies     []string
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, r)
	f.bodies = append(f.bodies, string(body))
	n := len(f.requests)
	f.mu.Unlock()
	if n <= f.failures {
		if f.status == 0 {
			conn, _, _ := http.NewResponseController(w).Hijack()
			_ = conn.Close()
			return
		}
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(f.status)
		fmt.Fprintf(w, `{"type":"https://secumon.secuaas.ovh/problems/x","title":"%s","status":%d}`, http.StatusText(f.status), f.status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.Method {
	case http.MethodPost:
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"id":"8f3b1c2a-2d44-4e1a-9b77-0a1b2c3d4e5f","name":"web-01","hostname":"127.0.0.1","is_active":true}`)
	default:
		fmt.Fprint(w, `{"count":0,"hosts":[]}`)
	}
}

func (f *flaky) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func fastRetries(attempts int) Option {
	return WithRetry(RetryPolicy{MaxAttempts: attempts, MinBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond})
}

func newTestClient(t *testing.T, h http.Handler, opts ...Option) *Client {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	c, err := New(ts.URL, opts...)
	require.NoError(t, err)
	return c
}

func TestRetriesTransientAnswersOfIdempotentRequests(t *testing.T) {
	for _, status := range []int{0, http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			f := &flaky{failures: 2, status: status}
			c := newTestClient(t, f, fastRetries(3))
			list, err := c.Hosts.List(context.Background(), nil)
			require.NoError(t, err)
			assert.Equal(t, 0, list.Count)
			assert.Equal(t, 3, f.count())
		})
	}
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	f := &flaky{failures: 10, status: http.StatusServiceUnavailable}
	c := newTestClient(t, f, fastRetries(3))
	_, err := c.Hosts.List(context.Background(), nil)
	require.ErrorIs(t, err, ErrUnavailable)
	assert.Equal(t, 3, f.count())
}

func TestDoesNotRetryOtherErrors(t *testing.T) {
	for _, status := range []int{http.StatusBadRequest, http.StatusNotFound, http.StatusConflict, http.StatusInternalServerError} {
		f := &flaky{failures: 1, status: status}
		c := newTestClient(t, f, fastRetries(3))
		_, err := c.Hosts.List(context.Background(), nil)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, status, apiErr.StatusCode)
		assert.Equal(t, 1, f.count(), "status %d", status)
	}
}

func TestPostWithoutKeyIsNotRetried(t *testing.T) {
	f := &flaky{failures: 1, status: http.StatusServiceUnavailable}
	c := newTestClient(t, f, fastRetries(3))
	// The raw client sends no Idempotency-Key unless asked: repeating could create twice.
	r, err := c.Raw().CreateHostWithResponse(context.Background(), nil, HostCreate{Name: "web-01", Hostname: "127.0.0.1"})
	require.NoError(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, r.StatusCode())
	assert.Equal(t, 1, f.count())
}

func TestCreateRetriesWithOneKey(t *testing.T) {
	f := &flaky{failures: 2, status: 0}
	c := newTestClient(t, f, fastRetries(3))
	host, err := c.Hosts.Create(context.Background(), HostCreate{Name: "web-01", Hostname: "127.0.0.1"})
	require.NoError(t, err)
	assert.Equal(t, "web-01", host.Name)
	require.Equal(t, 3, f.count())
	key := f.requests[0].Header.Get(IdempotencyKeyHeader)
	_, err = uuid.Parse(key)
	require.NoError(t, err, "a random key: %q", key)
	for i, r := range f.requests {
		assert.Equal(t, key, r.Header.Get(IdempotencyKeyHeader), "attempt %d reuses the key", i)
		var body HostCreate
		require.NoError(t, json.Unmarshal([]byte(f.bodies[i]), &body), "attempt %d sends the body again", i)
		assert.Equal(t, "web-01", body.Name)
	}

	// Another call gets another key; the caller may choose one.
	_, err = c.Hosts.Create(context.Background(), HostCreate{Name: "web-02", Hostname: "127.0.0.1"})
	require.NoError(t, err)
	_, err = c.Hosts.Create(context.Background(), HostCreate{Name: "web-03", Hostname: "127.0.0.1"}, WithIdempotencyKey("create-web-03"))
	require.NoError(t, err)
	assert.NotEqual(t, key, f.requests[3].Header.Get(IdempotencyKeyHeader))
	assert.Equal(t, "create-web-03", f.requests[4].Header.Get(IdempotencyKeyHeader))
}

func TestRetriesAKeyedConflictThatAsksToWait(t *testing.T) {
	f := &flaky{failures: 1, status: http.StatusConflict, retryAfter: "0"}
	c := newTestClient(t, f, fastRetries(3))
	_, err := c.Hosts.Create(context.Background(), HostCreate{Name: "web-01", Hostname: "127.0.0.1"})
	require.NoError(t, err)
	assert.Equal(t, 2, f.count())
}

func TestHonoursRetryAfter(t *testing.T) {
	f := &flaky{failures: 1, status: http.StatusTooManyRequests, retryAfter: "1"}
	c := newTestClient(t, f, fastRetries(2))
	start := time.Now()
	_, err := c.Hosts.List(context.Background(), nil)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), time.Second, "waited the server's Retry-After, not the 4 ms backoff")

	// A wait beyond the caller's deadline is not started: the answer comes back at once.
	f = &flaky{failures: 1, status: http.StatusServiceUnavailable, retryAfter: "30"}
	c = newTestClient(t, f, fastRetries(3))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start = time.Now()
	_, err = c.Hosts.List(ctx, nil)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 30*time.Second, apiErr.RetryAfter)
	assert.Less(t, time.Since(start), time.Second)
	assert.Equal(t, 1, f.count())
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 6, 23, 12, 0, 0, 0, time.UTC)
	h := http.Header{}
	_, ok := retryAfter(h, now)
	assert.False(t, ok)
	h.Set("Retry-After", "7")
	d, ok := retryAfter(h, now)
	assert.True(t, ok)
	assert.Equal(t, 7*time.Second, d)
	h.Set("Retry-After", now.Add(90*time.Second).Format(http.TimeFormat))
	d, _ = retryAfter(h, now)
	assert.Equal(t, 90*time.Second, d)
	h.Set("Retry-After", "soon")
	_, ok = retryAfter(h, now)
	assert.False(t, ok)
}

func TestBackoffIsBoundedFullJitter(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 10, MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}
	for attempt := range 40 {
		ceiling := min(time.Second, 100*time.Millisecond<<min(attempt, 20))
		for range 50 {
			d := p.backoff(attempt)
			assert.GreaterOrEqual(t, d, time.Duration(0))
			assert.LessOrEqual(t, d, ceiling)
		}
	}
	// Full jitter spreads the waits: not all the same.
	seen := map[time.Duration]bool{}
	for range 20 {
		seen[p.backoff(3)] = true
	}
	assert.Greater(t, len(seen), 1)
}
