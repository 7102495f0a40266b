package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/server/testkit/servertest"
)

type problemDoc struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	RequestID string `json:"request_id"`
	Errors    []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

// call sends a raw request (for what the typed client cannot express) and decodes a problem.
func call(t *testing.T, env *servertest.Env, method, path, token, body string) (*http.Response, problemDoc) {
	t.Helper()
	req, err := http.NewRequest(method, env.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var p problemDoc
	if resp.Header.Get("Content-Type") == "application/problem+json" {
		require.NoError(t, json.Unmarshal(raw, &p), string(raw))
		assert.Equal(t, resp.StatusCode, p.Status)
		assert.NotEmpty(t, p.RequestID)
		assert.Equal(t, resp.Header.Get("X-Request-ID"), p.RequestID)
	}
	return resp, p
}

func fieldsOf(p problemDoc) []string {
	var f []string
	for _, e := range p.Errors {
		f = append(f, e.Field)
	}
	return f
}

func TestBadInputNamesTheField(t *testing.T) {
	env := servertest.Start(t)
	tok := env.OwnerToken
	cases := []struct {
		name, method, path, body string
		status                   int
		field                    string
	}{
		{"missing required body field", "POST", "/api/v2/hosts", `{"hostname":"127.0.0.1"}`, 400, "name"},
		{"unknown body field", "POST", "/api/v2/hosts", `{"name":"a","hostname":"127.0.0.1","colour":"red"}`, 400, "colour"},
		{"wrong type", "POST", "/api/v2/hosts", `{"name":"a","hostname":"127.0.0.1","is_active":"yes"}`, 400, "is_active"},
		{"bad enum", "POST", "/api/v2/hosts", `{"name":"a","hostname":"127.0.0.1","host_type":"toaster"}`, 400, "host_type"},
		{"nested tag type", "POST", "/api/v2/hosts", `{"name":"a","hostname":"127.0.0.1","tags":{"env":3}}`, 400, "tags.env"},
		{"malformed json", "POST", "/api/v2/hosts", `{"name":`, 400, "body"},
		{"path id not a uuid", "GET", "/api/v2/hosts/not-a-uuid", "", 400, "id"},
		{"limit below bound", "GET", "/api/v2/hosts?limit=0", "", 400, "limit"},
		{"limit above bound", "GET", "/api/v2/hosts?limit=5001", "", 400, "limit"},
		{"bool param", "GET", "/api/v2/hosts?active=maybe", "", 400, "active"},
		{"query uuid", "GET", "/api/v2/checks?host_id=42", "", 400, "host_id"},
		{"interval bound", "POST", "/api/v2/checks", `{"host_id":"8f3b1c2a-2d44-4e1a-9b77-0a1b2c3d4e5f","name":"x","check_type":"ping","interval_sec":1}`, 400, "interval_sec"},
		{"check type enum", "POST", "/api/v2/checks", `{"host_id":"8f3b1c2a-2d44-4e1a-9b77-0a1b2c3d4e5f","name":"x","check_type":"gopher"}`, 400, "check_type"},
		{"empty partial update", "PUT", "/api/v2/hosts/8f3b1c2a-2d44-4e1a-9b77-0a1b2c3d4e5f", `{}`, 400, "body"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, p := call(t, env, tc.method, tc.path, tok, tc.body)
			require.Equal(t, tc.status, resp.StatusCode, "%+v", p)
			assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
			assert.Contains(t, fieldsOf(p), tc.field, "%+v", p)
		})
	}
	n, err := env.Queries.CountHosts(t.Context(), dbCountHosts(env))
	require.NoError(t, err)
	assert.Zero(t, n, "bad input changes nothing")
}

func TestRoutingAndLimits(t *testing.T) {
	env := servertest.Start(t)
	tok := env.OwnerToken

	resp, p := call(t, env, "GET", "/api/v2/nope", tok, "")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Contains(t, p.Type, "not-found")

	resp, _ = call(t, env, "GET", "/definitely/not/here", "", "")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))

	resp, p = call(t, env, "PATCH", "/api/v2/hosts", tok, "")
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Contains(t, p.Type, "method-not-allowed")

	big := `{"name":"a","hostname":"127.0.0.1","description":"` + strings.Repeat("x", 1<<20) + `"}`
	resp, p = call(t, env, "POST", "/api/v2/hosts", tok, big)
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	assert.Contains(t, p.Type, "too-large")

	// A chunked body (no Content-Length) is cut at the limit as well.
	req, err := http.NewRequest("POST", env.URL+"/api/v2/hosts", io.MultiReader(bytes.NewReader([]byte(big))))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = -1
	r2, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	r2.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, r2.StatusCode)

	resp, p = call(t, env, "GET", "/api/v2/hosts", "", "")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), "Bearer")
	resp, _ = call(t, env, "GET", "/api/v2/hosts", "smn_this-token-does-not-exist-anywhere", "")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	for _, path := range []string{"/healthz", "/readyz", "/api/v2/openapi.json", "/api/v2/openapi.yaml", "/docs"} {
		resp, _ := call(t, env, "GET", path, "", "")
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
	}
}

// PostgreSQL stores no NUL character: a value holding one is refused as bad input, naming
// the field, and nothing is stored.
func TestNulCharactersAreRefused(t *testing.T) {
	env := servertest.Start(t)
	resp, p := call(t, env, "POST", "/api/v2/hosts", env.OwnerToken, `{"name":"web\u0000","hostname":"127.0.0.1"}`)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Len(t, p.Errors, 1)
	assert.Equal(t, "name", p.Errors[0].Field)
	resp, p = call(t, env, "POST", "/api/v2/hosts", env.OwnerToken, `{"name":"web","hostname":"127.0.0.1","tags":{"env":"a\u0000"}}`)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "tags.env", p.Errors[0].Field)
	resp, _ = call(t, env, "GET", "/api/v2/incidents?tags=env:%00", env.OwnerToken, "")
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	resp, _ = call(t, env, "GET", "/api/v2/hosts", env.OwnerToken, "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var n int
	require.NoError(t, env.Pool.QueryRow(context.Background(), "SELECT count(*) FROM hosts").Scan(&n))
	assert.Zero(t, n)
}
