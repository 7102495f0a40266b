package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/server"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

// syncBuffer is a bytes.Buffer the server's goroutines may write to while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) lines(t *testing.T) []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), "a JSON line: %s", sc.Text())
		out = append(out, m)
	}
	return out
}

// The access line names the route template, never the raw path's ids, for API operations
// (from the contract), status pages (from their router) and the other routes; the
// workspace only for an authenticated caller; the request id always. With tracing off it
// names no trace, even when the caller sent a traceparent.
func TestAccessLogNamesRouteWorkspaceAndRequest(t *testing.T) {
	var logs syncBuffer
	env := servertest.Start(t, func(d *server.Deps) {
		d.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	c := env.Client(t, env.OwnerToken)
	createPage(t, c, client.StatusPageCreate{Slug: "web", Title: "Web", IsPublic: ptr(true)})

	get := func(path, token string) string {
		req, err := http.NewRequest(http.MethodGet, env.URL+path, nil)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.Header.Get("X-Request-ID")
	}
	const missing = "/api/v2/hosts/7d4b2c4e-4f5e-4b53-9a1b-0c2d3e4f5a6b"
	ids := map[string]string{
		missing:          get(missing, env.OwnerToken),
		"/api/v2/checks": get("/api/v2/checks", ""),
		"/status/web":    get("/status/web", ""),
		"/healthz":       get("/healthz", ""),
		"/nowhere":       get("/nowhere", ""),
	}
	want := map[string]struct {
		route     string
		status    float64
		workspace bool
	}{
		missing:          {"/api/v2/hosts/{id}", 404, true},
		"/api/v2/checks": {"/api/v2/checks", 401, false},
		"/status/web":    {"/status/{slug}", 200, false},
		"/healthz":       {"/healthz", 200, false},
		"/nowhere":       {"/", 404, false},
	}
	seen := map[string]bool{}
	for _, m := range logs.lines(t) {
		path, _ := m["path"].(string)
		w, ok := want[path]
		if m["msg"] != "http" || !ok {
			continue
		}
		seen[path] = true
		assert.Equal(t, w.route, m["route"], path)
		assert.Equal(t, w.status, m["status"], path)
		assert.Equal(t, ids[path], m["request_id"], path)
		if w.workspace {
			assert.Equal(t, env.Workspace.String(), m["workspace_id"], path)
		} else {
			assert.NotContains(t, m, "workspace_id", path)
		}
		assert.NotContains(t, m, "trace_id", "tracing is off: %s", path)
	}
	assert.Len(t, seen, len(want), "an access line per request: %v", seen)
}
