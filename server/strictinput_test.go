package server_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/server/testkit/servertest"
)

// goWords are what a Go decoder or PostgreSQL would say; no error answer may carry them.
var goWords = []string{"Go struct", "Go value", "unmarshal", "of type int", "float64", "SQLSTATE", "pq:", "ERROR:", "strconv.", "json:", "json.Number", "cannot convert"}

func assertNoInternals(t *testing.T, p problemDoc) {
	t.Helper()
	all := p.Detail
	for _, e := range p.Errors {
		all += " " + e.Message
	}
	for _, w := range goWords {
		assert.NotContains(t, all, w, "%+v", p)
	}
}

// Bodies and query strings JSON or HTTP allow but the contract does not mean: each refused
// as problem+json naming the field, in JSON's words, and nothing stored.
func TestStrictInput(t *testing.T) {
	env := servertest.Start(t)
	tok := env.OwnerToken
	cases := []struct {
		name, method, path, body string
		field                    string
	}{
		{"trailing garbage", "POST", "/api/v2/status-pages", `{"slug":"a-page","title":"x"} xyz`, "body"},
		{"two objects", "POST", "/api/v2/status-pages", `{"slug":"a-page","title":"x"}{"slug":"b-page","title":"y"}`, "body"},
		{"trailing data on a put", "PUT", "/api/v2/hosts/8f3b1c2a-2d44-4e1a-9b77-0a1b2c3d4e5f", `{"name":"a"} 1`, "body"},
		{"explicit null on a defaulted field", "POST", "/api/v2/status-pages", `{"slug":"a-page","title":"x","is_public":null}`, "is_public"},
		{"duplicate key", "POST", "/api/v2/status-pages", `{"slug":"a-page","title":"x","title":"y"}`, "title"},
		{"number out of range", "POST", "/api/v2/status-pages", `{"slug":"a-page","title":"x","show_history_days":1e999}`, "show_history_days"},
		{"fraction for an integer", "POST", "/api/v2/status-pages", `{"slug":"a-page","title":"x","show_history_days":60.5}`, "show_history_days"},
		{"repeated scalar query parameter", "GET", "/api/v2/hosts?limit=1&limit=2", "", "limit"},
		{"malformed cursor", "GET", "/api/v2/hosts?cursor=not*a*cursor", "", "cursor"},
		{"malformed query string", "GET", "/api/v2/hosts?cursor=%zz", "", "query"},
		{"empty cursor", "GET", "/api/v2/hosts?cursor=", "", "cursor"},
		{"forged cursor, NUL in key", "GET", "/api/v2/hosts?cursor=" + base64.RawURLEncoding.EncodeToString([]byte(`{"n":"a\u0000","i":"8f3b1c2a-2d44-4e1a-9b77-0a1b2c3d4e5f"}`)), "", "cursor"},
		{"forged cursor, bad UTF-8", "GET", "/api/v2/hosts?cursor=" + base64.RawURLEncoding.EncodeToString([]byte("{\"n\":\"\xff\",\"i\":\"8f3b1c2a-2d44-4e1a-9b77-0a1b2c3d4e5f\"}")), "", "cursor"},
		{"forged cursor, empty object", "GET", "/api/v2/hosts?cursor=" + base64.RawURLEncoding.EncodeToString([]byte(`{}`)), "", "cursor"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, p := call(t, env, tc.method, tc.path, tok, tc.body)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%+v", p)
			assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
			assert.Contains(t, fieldsOf(p), tc.field, "%+v", p)
			assertNoInternals(t, p)
		})
	}
	var n int
	require.NoError(t, env.Pool.QueryRow(context.Background(), "SELECT count(*) FROM status_pages").Scan(&n))
	assert.Zero(t, n, "bad input stores nothing")

	// An integral number written as 60.0 or 1e2 is the integer it denotes.
	resp, p := call(t, env, "POST", "/api/v2/status-pages", tok, `{"slug":"float-days","title":"x","show_history_days":6e1,"is_public":false}`)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%+v", p)
	require.NoError(t, env.Pool.QueryRow(context.Background(), "SELECT show_history_days FROM status_pages WHERE slug = 'float-days'").Scan(&n))
	assert.Equal(t, 60, n)

	// A 405 says what is allowed.
	resp, _ = call(t, env, "PATCH", "/api/v2/hosts", tok, "")
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Equal(t, "GET, POST", resp.Header.Get("Allow"))

	// Oversized headers: problem+json too.
	req, err := http.NewRequest("GET", env.URL+"/api/v2/hosts", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("X-Big", strings.Repeat("x", 70<<10))
	r2, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	r2.Body.Close()
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, r2.StatusCode)
	assert.Equal(t, "application/problem+json", r2.Header.Get("Content-Type"))
}
