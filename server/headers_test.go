package server_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

// Answers carry the headers that keep them out of caches and frames: API answers are never
// stored, the public status page allows no script or framing, and every miss is problem+json.
func TestProtectiveHeaders(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	createPage(t, c, client.StatusPageCreate{Slug: "web", Title: "Web", IsPublic: ptr(true)})

	get := func(path, token string) *http.Response {
		req, err := http.NewRequest(http.MethodGet, env.URL+path, nil)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}

	api := get("/api/v2/hosts", env.OwnerToken)
	require.Equal(t, http.StatusOK, api.StatusCode)
	assert.Equal(t, "no-store", api.Header.Get("Cache-Control"))
	denied := get("/api/v2/hosts", "")
	require.Equal(t, http.StatusUnauthorized, denied.StatusCode)
	assert.Equal(t, "no-store", denied.Header.Get("Cache-Control"))

	page := get("/status/web", "")
	require.Equal(t, http.StatusOK, page.StatusCode)
	assert.Contains(t, page.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	assert.Contains(t, page.Header.Get("Content-Security-Policy"), "default-src 'none'")
	assert.Equal(t, "DENY", page.Header.Get("X-Frame-Options"))

	require.Equal(t, http.StatusOK, get("/docs/", "").StatusCode, "/docs/ is the docs page too")
	miss := get("/docs/nothing-here", "")
	require.Equal(t, http.StatusNotFound, miss.StatusCode)
	assert.Equal(t, "application/problem+json", miss.Header.Get("Content-Type"))
	var p struct {
		Status int `json:"status"`
	}
	require.NoError(t, json.NewDecoder(miss.Body).Decode(&p))
	assert.Equal(t, http.StatusNotFound, p.Status)
}
