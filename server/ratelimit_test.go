package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/server"
	"github.com/secuaas/secumon/server/domain/access"
	"github.com/secuaas/secumon/server/edge/events"
	"github.com/secuaas/secumon/server/edge/ratelimit"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

func limited(c ratelimit.Config) func(*server.Deps) {
	return func(d *server.Deps) { d.RateLimits = c }
}

// rlCall sends a GET with an optional token and X-Forwarded-For and returns the answer, its
// body read.
func rlCall(t *testing.T, url, token, forwardedFor string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

// requireTooMany checks a 429 answer: problem+json, Retry-After of at least a second, and the
// rate-limit headers of policy.
func requireTooMany(t *testing.T, resp *http.Response, body []byte, policy string) {
	t.Helper()
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, string(body))
	assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	var p struct {
		Status int    `json:"status"`
		Detail string `json:"detail"`
	}
	require.NoError(t, json.Unmarshal(body, &p))
	assert.Equal(t, http.StatusTooManyRequests, p.Status)
	ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	require.NoError(t, err, "Retry-After %q", resp.Header.Get("Retry-After"))
	assert.GreaterOrEqual(t, ra, 1)
	if policy != "" {
		assert.Contains(t, resp.Header.Get("RateLimit-Policy"), `"`+policy+`"`)
		assert.Contains(t, resp.Header.Get("RateLimit"), `"`+policy+`";r=0;`)
		assert.Equal(t, "0", resp.Header.Get("RateLimit-Remaining"))
	}
}

// Each token has its own bucket: past its burst a token gets 429 with Retry-After and the
// RateLimit headers, another token is unaffected, and normal answers say what is left.
func TestRateLimitPerToken(t *testing.T) {
	env := servertest.Start(t, limited(ratelimit.Config{TokenRate: 0.5, TokenBurst: 5}))
	other := env.Token(t, "default", access.Viewer).Token
	url := env.URL + "/api/v2/hosts"

	for i := range 5 {
		resp, body := rlCall(t, url, env.OwnerToken, "")
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		assert.Equal(t, `"token";q=5;w=10`, resp.Header.Get("RateLimit-Policy"))
		assert.Equal(t, "5", resp.Header.Get("RateLimit-Limit"))
		assert.Equal(t, strconv.Itoa(4-i), resp.Header.Get("RateLimit-Remaining"))
		assert.True(t, strings.HasPrefix(resp.Header.Get("RateLimit"), `"token";r=`+strconv.Itoa(4-i)+";t="), resp.Header.Get("RateLimit"))
	}
	resp, body := rlCall(t, url, env.OwnerToken, "")
	requireTooMany(t, resp, body, "token")
	assert.Equal(t, "2", resp.Header.Get("Retry-After"), "one request comes back in 2 s at 0.5/s")

	resp, body = rlCall(t, url, other, "")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	assert.Equal(t, "4", resp.Header.Get("RateLimit-Remaining"))
}

// A client address that keeps presenting bad tokens is refused with 429 after the
// failed-authentication budget (10 a minute by default), before any token lookup; its good
// token waits too. X-Forwarded-For is ignored unless the peer is a trusted proxy.
func TestRateLimitFailedAuthentication(t *testing.T) {
	withMetrics, metricsURL := serveMetrics(t)
	env := servertest.Start(t, limited(ratelimit.Config{}), withMetrics)
	runApp(t, env)
	url := env.URL + "/api/v2/hosts"
	bogus := access.TokenPrefix + strings.Repeat("x", 40)

	statuses := map[int]int{}
	for i := range 100 {
		// A forged X-Forwarded-For must not give a fresh address.
		resp, body := rlCall(t, url, bogus+strconv.Itoa(i), "198.51.100."+strconv.Itoa(i))
		statuses[resp.StatusCode]++
		if resp.StatusCode == http.StatusTooManyRequests {
			requireTooMany(t, resp, body, "failed-auth")
			ra, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			assert.LessOrEqual(t, ra, 6, "one failure comes back in 6 s at 10/min")
		}
	}
	assert.Equal(t, map[int]int{http.StatusUnauthorized: 10, http.StatusTooManyRequests: 90}, statuses)

	resp, body := rlCall(t, url, env.OwnerToken, "")
	requireTooMany(t, resp, body, "failed-auth")

	// Anonymous requests without any token count as failures too.
	resp, body = rlCall(t, url, "", "")
	requireTooMany(t, resp, body, "failed-auth")

	// Refused by the rate limit, before the contract gate: the route is the API's prefix.
	fams := scrape(t, metricsURL)
	assert.Equal(t, 92.0, sample(fams, "secumon_rate_limited_requests_total", map[string]string{"reason": "failed-auth"}))
	assert.Equal(t, 92.0, sample(fams, "secumon_http_requests_total", map[string]string{"route": "/api/v2/", "code": "429"}))
	// Refused by the gate, which knows the operation: its route.
	assert.Equal(t, 10.0, sample(fams, "secumon_http_requests_total", map[string]string{"route": "GET /api/v2/hosts", "code": "401"}))
}

// Behind a trusted proxy the client is the X-Forwarded-For address: one client's failures
// do not lock out another behind the same proxy.
func TestRateLimitTrustedProxy(t *testing.T) {
	env := servertest.Start(t, limited(ratelimit.Config{
		FailedAuthPerMinute: 3, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
	}))
	url := env.URL + "/api/v2/hosts"
	bogus := access.TokenPrefix + strings.Repeat("y", 40)
	for range 3 {
		resp, _ := rlCall(t, url, bogus, "203.0.113.7")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	}
	resp, body := rlCall(t, url, bogus, "203.0.113.7")
	requireTooMany(t, resp, body, "failed-auth")
	// The attacker cannot hide behind a made-up hop on the left.
	resp, body = rlCall(t, url, bogus, "192.0.2.1, 203.0.113.7")
	requireTooMany(t, resp, body, "failed-auth")

	resp, body = rlCall(t, url, env.OwnerToken, "203.0.113.8")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
}

// Anonymous status pages are limited per client address.
func TestRateLimitAnonymousStatusPages(t *testing.T) {
	env := servertest.Start(t, limited(ratelimit.Config{AddrRate: 1, AddrBurst: 3}))
	for range 3 {
		resp, body := rlCall(t, env.URL+"/status/nothing-here", "", "")
		require.Equal(t, http.StatusNotFound, resp.StatusCode, string(body))
		assert.Equal(t, `"address";q=3;w=3`, resp.Header.Get("RateLimit-Policy"))
	}
	resp, body := rlCall(t, env.URL+"/status/nothing-here", "", "")
	requireTooMany(t, resp, body, "address")
	// Health and docs are not limited.
	resp, _ = rlCall(t, env.URL+"/healthz", "", "")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// openStream opens GET /events and, when it is accepted, reads its first line; the stream is
// closed at the end of the test or by the returned func.
func openStream(t *testing.T, env *servertest.Env, token string) (int, []byte, *http.Response, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, env.URL+"/api/v2/events", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	stop := func() { cancel(); resp.Body.Close() }
	t.Cleanup(stop)
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body, resp, stop
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(line, "retry:"), line)
	return resp.StatusCode, nil, resp, stop
}

// Event streams are capped per token and in total; beyond, 429 with Retry-After. A closed
// stream frees its place.
func TestEventStreamCaps(t *testing.T) {
	env := servertest.Start(t, func(d *server.Deps) { d.EventStreams = events.Limits{PerToken: 2, Total: 3} })
	a, b, c := env.OwnerToken, env.Token(t, "default", access.Viewer).Token, env.Token(t, "default", access.Viewer).Token

	status, _, _, stopFirst := openStream(t, env, a)
	require.Equal(t, http.StatusOK, status)
	status, _, _, _ = openStream(t, env, a)
	require.Equal(t, http.StatusOK, status)
	status, body, resp, _ := openStream(t, env, a)
	requireTooMany(t, resp, body, "")
	assert.Contains(t, string(body), "2 event streams")

	status, _, _, _ = openStream(t, env, b)
	require.Equal(t, http.StatusOK, status)
	status, body, resp, _ = openStream(t, env, c)
	requireTooMany(t, resp, body, "")
	assert.Contains(t, string(body), "3 event streams")

	stopFirst()
	require.Eventually(t, func() bool {
		status, _, _, _ := openStream(t, env, c)
		return status == http.StatusOK
	}, 5*time.Second, 50*time.Millisecond)
}

// The Go SDK reads the RateLimit fields of normal answers and, refused with 429, waits the
// Retry-After the server sent and tries again.
func TestRateLimitSDKRetries(t *testing.T) {
	env := servertest.Start(t, limited(ratelimit.Config{TokenRate: 1, TokenBurst: 2}))
	c, err := client.New(env.URL, client.WithToken(env.OwnerToken))
	require.NoError(t, err)
	ctx := context.Background()

	var resp client.Response
	_, err = c.Hosts.List(ctx, nil, client.CaptureResponse(&resp))
	require.NoError(t, err)
	require.NotNil(t, resp.RateLimit)
	assert.Equal(t, 2, resp.RateLimit.Limit)
	assert.Equal(t, 1, resp.RateLimit.Remaining)
	assert.Equal(t, 1, resp.Attempts)

	_, err = c.Hosts.List(ctx, nil)
	require.NoError(t, err)
	start := time.Now()
	_, err = c.Hosts.List(ctx, nil, client.CaptureResponse(&resp))
	require.NoError(t, err)
	assert.Equal(t, 2, resp.Attempts, "the 429 was retried")
	assert.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond, "after Retry-After")
}
