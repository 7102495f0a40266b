package client_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/client/publicstatus"
	"github.com/secuaas/secumon/server/testkit/dbtest"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

// These tests run the SDK against the real server (servertest: the whole HTTP stack over a
// PostgreSQL of their own).
func TestMain(m *testing.M) { dbtest.Main(m) }

func ownerClient(t *testing.T, url string, env *servertest.Env, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New(url, append([]client.Option{client.WithToken(env.OwnerToken)}, opts...)...)
	require.NoError(t, err)
	return c
}

// TestCaptureResponse: the metadata of successes (request id, replayed answers, the key) and
// of errors, through the real idempotency layer.
func TestCaptureResponse(t *testing.T) {
	env := servertest.Start(t)
	c := ownerClient(t, env.URL, env)
	ctx := context.Background()

	key := uuid.NewString()
	body := client.HostCreate{Name: "capture-01", Hostname: "127.0.0.1", Description: client.Ptr("made by the SDK test")}
	var first client.Response
	host, err := c.Hosts.Create(ctx, body, client.WithIdempotencyKey(key), client.CaptureResponse(&first))
	require.NoError(t, err)
	assert.Equal(t, "made by the SDK test", *host.Description, "client.Ptr fills an optional field")
	assert.Equal(t, http.StatusCreated, first.StatusCode())
	assert.NotEmpty(t, first.RequestID)
	assert.False(t, first.Replayed)
	assert.Equal(t, key, first.IdempotencyKey)
	assert.Equal(t, 1, first.Attempts)
	assert.Nil(t, first.RateLimit, "the server sends no rate-limit headers yet")

	// The same create again with the same key: the server replays its first answer.
	var again client.Response
	replayed, err := c.Hosts.Create(ctx, body, client.WithIdempotencyKey(key), client.CaptureResponse(&again))
	require.NoError(t, err)
	assert.True(t, again.Replayed, "Idempotent-Replayed: true")
	assert.Equal(t, host.Id, replayed.Id, "no second host")
	assert.NotEqual(t, first.RequestID, again.RequestID)

	// Errors are captured too, with the request id of the APIError.
	var miss client.Response
	_, err = c.Hosts.Get(ctx, uuid.New(), client.CaptureResponse(&miss))
	require.True(t, client.IsNotFound(err), "%v", err)
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusNotFound, miss.StatusCode())
	assert.Equal(t, apiErr.RequestID, miss.RequestID)
	assert.Empty(t, miss.IdempotencyKey)
}

// TestRetryHooks puts a proxy in front of the real server that answers the first request
// 503: the OnRetry hook and the retry logger see the retry, and the captured response counts
// two attempts.
func TestRetryHooks(t *testing.T) {
	env := servertest.Start(t)
	target, err := url.Parse(env.URL)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var seen atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if seen.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			w.Header().Set("X-Request-ID", "outage-1")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)

	var (
		mu     sync.Mutex
		events []client.RetryEvent
		logs   bytes.Buffer
	)
	c := ownerClient(t, front.URL, env,
		client.WithOnRetry(func(_ context.Context, e client.RetryEvent) {
			mu.Lock()
			defer mu.Unlock()
			events = append(events, e)
		}),
		client.WithRetryLogger(slog.New(slog.NewTextHandler(&logs, nil))))

	var resp client.Response
	list, err := c.Hosts.List(context.Background(), nil, client.CaptureResponse(&resp))
	require.NoError(t, err)
	assert.Zero(t, list.Count)
	assert.Equal(t, 2, resp.Attempts)
	assert.Equal(t, http.StatusOK, resp.StatusCode())
	assert.NotEqual(t, "outage-1", resp.RequestID, "the metadata is the final answer's")

	require.Len(t, events, 1)
	assert.Equal(t, 2, events[0].Attempt)
	assert.Equal(t, http.StatusServiceUnavailable, events[0].StatusCode)
	assert.Equal(t, "outage-1", events[0].RequestID)
	assert.Equal(t, time.Duration(0), events[0].Wait, "Retry-After: 0")
	assert.Equal(t, "/api/v2/hosts", events[0].Request.URL.Path)
	assert.Contains(t, logs.String(), `level=WARN msg="secumon: retrying request" method=GET path=/api/v2/hosts attempt=2 wait=0s status=503 request_id=outage-1`)
}

// TestAppSecurityService uploads the sample Trivy report, reads it back, and triages one
// of its findings.
func TestAppSecurityService(t *testing.T) {
	env := servertest.Start(t)
	c := ownerClient(t, env.URL, env)
	ctx := context.Background()
	report, err := os.ReadFile("../examples/appsec/trivy-sample.json")
	require.NoError(t, err)

	var resp client.Response
	up, err := c.AppSecurity.UploadReport(ctx, report, nil, client.CaptureResponse(&resp))
	require.NoError(t, err)
	assert.NotEmpty(t, resp.IdempotencyKey, "an upload carries an Idempotency-Key")
	assert.Equal(t, "registry.local/web", up.Project, "the project comes from the report")
	require.Positive(t, up.Findings)
	assert.Equal(t, up.Findings, up.New)

	got, err := c.AppSecurity.GetReport(ctx, up.Id)
	require.NoError(t, err)
	assert.Equal(t, up.Id, got.Id)
	reports, err := c.AppSecurity.ListReports(ctx, &client.ListAppSecurityReportsParams{Project: client.Ptr(up.Project)})
	require.NoError(t, err)
	require.Len(t, reports.Reports, 1)
	assert.Equal(t, up.Id, reports.Reports[0].Id)

	var findings []client.AppSecFinding
	for f, err := range c.AppSecurity.AllFindings(ctx, &client.ListAppSecurityFindingsParams{Limit: client.Ptr(1)}) {
		require.NoError(t, err)
		findings = append(findings, f)
	}
	require.Len(t, findings, up.Findings, "AllFindings follows the cursor one finding a page")
	target := findings[0]
	one, err := c.AppSecurity.GetFinding(ctx, target.Id)
	require.NoError(t, err)
	assert.Equal(t, target.RuleId, one.RuleId)

	accepted, err := c.AppSecurity.UpdateFinding(ctx, target.Id, client.AppSecFindingUpdate{Status: "accepted", Note: client.Ptr("not reachable")})
	require.NoError(t, err)
	assert.Equal(t, client.AppSecStatus("accepted"), accepted.Status)
	page, err := c.AppSecurity.ListFindings(ctx, &client.ListAppSecurityFindingsParams{Status: client.Ptr(client.AppSecStatus("accepted"))})
	require.NoError(t, err)
	require.Len(t, page.Findings, 1)
	assert.Equal(t, target.Id, page.Findings[0].Id)

	// The same report again changes nothing new.
	second, err := c.AppSecurity.UploadReport(ctx, report, &client.UploadAppSecurityReportParams{Format: client.Ptr(client.UploadAppSecurityReportParamsFormatTrivy)})
	require.NoError(t, err)
	assert.Zero(t, second.New)
	_, err = c.AppSecurity.GetFinding(ctx, uuid.New())
	assert.True(t, client.IsNotFound(err), "%v", err)
}

// TestPublicStatus reads status pages through /status/{slug}/api: an anonymous client sees
// the public page only; the owner's client sees the private one too.
func TestPublicStatus(t *testing.T) {
	env := servertest.Start(t)
	owner := ownerClient(t, env.URL, env)
	ctx := context.Background()
	host, err := owner.Hosts.Create(ctx, client.HostCreate{Name: "public-01", Hostname: "127.0.0.1"})
	require.NoError(t, err)
	components := []client.StatusPageComponent{{Name: "Web server", Group: client.Ptr("Front"), HostId: &host.Id}}
	_, err = owner.StatusPages.Create(ctx, client.StatusPageCreate{Slug: "sdk-public", Title: "SDK public", Components: &components})
	require.NoError(t, err)
	_, err = owner.StatusPages.Create(ctx, client.StatusPageCreate{Slug: "sdk-private", Title: "SDK private", IsPublic: client.Ptr(false)})
	require.NoError(t, err)

	anonymous, err := client.New(env.URL)
	require.NoError(t, err)
	var resp client.Response
	page, err := anonymous.PublicStatus.Get(ctx, "sdk-public", client.CaptureResponse(&resp))
	require.NoError(t, err)
	assert.Equal(t, "SDK public", page.Title)
	require.Len(t, page.Components, 1)
	assert.Equal(t, "Web server", page.Components[0].Name)
	assert.Equal(t, "web-server", page.Components[0].Slug)
	assert.Equal(t, publicstatus.Unknown, page.Components[0].State, "no result yet")
	assert.NotEmpty(t, resp.HTTP.Header.Get("ETag"))
	assert.Contains(t, resp.HTTP.Header.Get("Cache-Control"), "public")

	_, err = anonymous.PublicStatus.Get(ctx, "sdk-private")
	assert.True(t, client.IsNotFound(err), "a private page is not public: %v", err)
	private, err := owner.PublicStatus.Get(ctx, "sdk-private")
	require.NoError(t, err)
	assert.Equal(t, "SDK private", private.Title)

	// The generated client of the public routes is there for the badge and the feed.
	badge, err := anonymous.PublicStatus.Raw().GetPublicStatusBadgeWithResponse(ctx, "sdk-public", "overall", nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, badge.StatusCode())
	assert.Contains(t, string(badge.Body), "<svg")
}
