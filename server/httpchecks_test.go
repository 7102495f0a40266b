package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/probes"
	"github.com/secuaas/secumon/probes/runner/worker"
	"github.com/secuaas/secumon/server"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

// HTTP assertions the schema accepts but that could never run (a regular expression or a
// JSONPath query that does not compile, a comparison without its value) are refused at
// creation and on update, naming config.assertions.N.<field>; nothing is stored.
func TestHTTPAssertionsValidated(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()
	host := createHost(t, c, "web")

	withConfig := func(cfg client.HttpConfig) client.CheckCreate {
		return client.NewCheckCreate(client.HttpCheckCreate{HostId: host.Id, Name: "h", Config: cfg})
	}
	typed := func(assertions ...client.HttpAssertion) client.CheckCreate {
		return withConfig(client.HttpConfig{URL: "http://127.0.0.1:9/health", Assertions: &assertions})
	}
	untyped := func(config map[string]any) client.CheckCreate {
		return client.CheckCreateBase{HostId: host.Id, Name: "h", CheckType: client.CheckTypeHttp, Config: &config}.CheckCreate()
	}
	ok := client.NewHttpAssertion(client.HttpAssertionStatusIn{Codes: []int{200}})
	many := make([]any, 33)
	for i := range many {
		many[i] = map[string]any{"kind": "status_in", "codes": []int{200}}
	}
	cases := []struct {
		name    string
		body    client.CheckCreate
		field   string
		message string
	}{
		{"body regex does not compile", typed(ok, client.NewHttpAssertion(client.HttpAssertionBodyMatches{Regex: "(unclosed"})), "config.assertions.1.regex", "missing closing )"},
		{"header regex is not RE2", typed(client.NewHttpAssertion(client.HttpAssertionHeaderMatches{Name: "Content-Type", Regex: `(?<=json)x`})), "config.assertions.0.regex", "RE2"},
		{"json path does not parse", typed(ok, ok, client.NewHttpAssertion(client.HttpAssertionJsonPath{Path: "$.items[?@.a ==]", Op: client.JsonPathOpExists})), "config.assertions.2.path", "RFC 9535"},
		{"json path without $", typed(client.NewHttpAssertion(client.HttpAssertionJsonPath{Path: "status", Op: client.JsonPathOpExists})), "config.assertions.0.path", "starting with $"},
		{"comparison without a value", typed(client.NewHttpAssertion(client.HttpAssertionJsonPath{Path: "$.status", Op: client.JsonPathOpEq})), "config.assertions.0.value", "required"},
		{"length compared with a string", typed(client.NewHttpAssertion(client.HttpAssertionJsonPath{Path: "$.items", Op: client.JsonPathOpGt, Measure: ptr(client.JsonPathMeasureLength), Value: "3"})), "config.assertions.0.value", "number"},
		{"unknown op", typed(client.NewHttpAssertion(client.HttpAssertionJsonPath{Path: "$.status", Op: "~="})), "config.assertions.0.op", ""},
		{"unknown severity", typed(client.NewHttpAssertion(client.HttpAssertionCertDaysAbove{Days: 7, Severity: ptr(client.HttpAssertionSeverity("fatal"))})), "config.assertions.0.severity", ""},
		{"status code out of range", typed(client.NewHttpAssertion(client.HttpAssertionStatusIn{Codes: []int{99}})), "config.assertions.0.codes.0", ""},
		{"unknown kind", untyped(map[string]any{"url": "http://127.0.0.1/", "assertions": []any{map[string]any{"kind": "teapot"}}}), "config.assertions.0.kind", ""},
		{"another kind's field", untyped(map[string]any{"url": "http://127.0.0.1/", "assertions": []any{map[string]any{"kind": "status_in", "codes": []int{200}, "regex": "x"}}}), "config.assertions.0.regex", ""},
		{"too many assertions", untyped(map[string]any{"url": "http://127.0.0.1/", "assertions": many}), "config.assertions", ""},
		{"basic auth without password", untyped(map[string]any{"url": "http://127.0.0.1/", "basic_auth": map[string]any{"username": "u"}}), "config.basic_auth.password", ""},
		{"cert days negative", withConfig(client.HttpConfig{URL: "https://127.0.0.1/", CertCritDays: ptr(-1)}), "config.cert_crit_days", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := c.CreateCheckWithResponse(ctx, nil, tc.body)
			require.NoError(t, err)
			require.Equal(t, http.StatusBadRequest, r.StatusCode(), string(r.Body))
			t.Log(string(r.Body))
			require.Equal(t, "application/problem+json", r.HTTPResponse.Header.Get("Content-Type"))
			require.NotNil(t, r.ApplicationproblemJSON400)
			messages := map[string]string{}
			for _, f := range *r.ApplicationproblemJSON400.Errors {
				messages[f.Field] = f.Message
			}
			require.Contains(t, messages, tc.field, string(r.Body))
			assert.Contains(t, messages[tc.field], tc.message)
		})
	}
	n, err := env.Queries.CountChecks(ctx, db.CountChecksParams{WorkspaceID: env.Workspace})
	require.NoError(t, err)
	assert.Zero(t, n, "a refused check is not stored")

	// The same rule on update: a stored check keeps its config when the new one is refused.
	created, err := c.CreateCheckWithResponse(ctx, nil, typed(ok))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, created.StatusCode(), string(created.Body))
	bad := []client.HttpAssertion{ok, client.NewHttpAssertion(client.HttpAssertionBodyMatches{Regex: "a**"})}
	r, err := c.UpdateCheckWithResponse(ctx, created.JSON201.Id, nil, client.CheckUpdate{Config: client.NewCheckConfig(client.HttpConfig{URL: "http://127.0.0.1:9/", Assertions: &bad})})
	require.NoError(t, err)
	require.Equal(t, http.StatusBadRequest, r.StatusCode(), string(r.Body))
	assert.Equal(t, "config.assertions.1.regex", (*r.ApplicationproblemJSON400.Errors)[0].Field)
	stored, err := env.Queries.GetCheck(ctx, db.GetCheckParams{WorkspaceID: env.Workspace, ID: created.JSON201.Id})
	require.NoError(t, err)
	assert.NotContains(t, string(stored.Config), "a**")
}

// An HTTP check with every assertion kind round-trips through the SDK's types, and its
// basic_auth password is write-only: masked in every answer, kept when sent back masked,
// replaced when sent anew.
func TestHTTPCheckAssertionsAndBasicAuth(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()
	host := createHost(t, c, "shop")

	assertions := []client.HttpAssertion{
		client.NewHttpAssertion(client.HttpAssertionStatusIn{Codes: []int{200, 204}}),
		client.NewHttpAssertion(client.HttpAssertionLatencyBelow{Ms: 800}),
		client.NewHttpAssertion(client.HttpAssertionHeaderEquals{Name: "Cache-Control", Value: "no-store"}),
		client.NewHttpAssertion(client.HttpAssertionHeaderMatches{Name: "Content-Type", Regex: "^application/json"}),
		client.NewHttpAssertion(client.HttpAssertionBodyContains{Text: `"ok"`}),
		client.NewHttpAssertion(client.HttpAssertionBodyNotContains{Text: "Maintenance"}),
		client.NewHttpAssertion(client.HttpAssertionBodyMatches{Regex: `version: \d+`}),
		client.NewHttpAssertion(client.HttpAssertionJsonPath{Path: "$.items", Measure: ptr(client.JsonPathMeasureLength), Op: client.JsonPathOpGt, Value: 0, Severity: ptr(client.HttpAssertionSeverityWarning)}),
		client.NewHttpAssertion(client.HttpAssertionCertDaysAbove{Days: 21}),
	}
	r, err := c.CreateCheckWithResponse(ctx, nil, client.NewCheckCreate(client.HttpCheckCreate{HostId: host.Id, Name: "shop health", Config: client.HttpConfig{
		URL: "https://127.0.0.1:9/health", Assertions: &assertions, TlsRequired: ptr(true), CertWarnDays: ptr(30),
		BasicAuth: &client.HttpBasicAuth{Username: "monitor", Password: ptr("basic-s3cret-pw")},
	}}))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), string(r.Body))
	assert.NotContains(t, string(r.Body), "basic-s3cret-pw")
	id := r.JSON201.Id

	got, err := c.GetCheckWithResponse(ctx, id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, got.StatusCode(), string(got.Body))
	assert.NotContains(t, string(got.Body), "basic-s3cret-pw")
	cfg, err := got.JSON200.Config.AsHttpConfig()
	require.NoError(t, err)
	require.NotNil(t, cfg.BasicAuth)
	assert.Equal(t, client.HttpBasicAuth{Username: "monitor", Password: ptr("********")}, *cfg.BasicAuth)
	require.NotNil(t, cfg.Assertions)
	require.Len(t, *cfg.Assertions, len(assertions))
	jp, err := (*cfg.Assertions)[7].AsHttpAssertionJsonPath()
	require.NoError(t, err)
	assert.Equal(t, client.HttpAssertionKindJsonPath, jp.Kind)
	assert.Equal(t, "$.items", jp.Path)
	assert.Equal(t, client.HttpAssertionSeverityWarning, *jp.Severity)
	kind, err := (*cfg.Assertions)[8].Discriminator()
	require.NoError(t, err)
	assert.Equal(t, "cert_days_above", kind)

	list, err := c.ListChecksWithResponse(ctx, nil)
	require.NoError(t, err)
	assert.NotContains(t, string(list.Body), "basic-s3cret-pw")

	storedAuth := func() map[string]any {
		s, err := env.Queries.GetCheck(ctx, db.GetCheckParams{WorkspaceID: env.Workspace, ID: id})
		require.NoError(t, err)
		var raw struct {
			BasicAuth    map[string]any `json:"basic_auth"`
			CertWarnDays int            `json:"cert_warn_days"`
		}
		require.NoError(t, json.Unmarshal(s.Config, &raw))
		return map[string]any{"auth": raw.BasicAuth, "warn": raw.CertWarnDays}
	}

	// Read-modify-write with the masked password keeps the stored one.
	cfg.CertWarnDays = ptr(20)
	upd, err := c.UpdateCheckWithResponse(ctx, id, nil, client.CheckUpdate{Config: client.NewCheckConfig(cfg)})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, upd.StatusCode(), string(upd.Body))
	assert.NotContains(t, string(upd.Body), "basic-s3cret-pw")
	assert.Equal(t, map[string]any{"auth": map[string]any{"username": "monitor", "password": "basic-s3cret-pw"}, "warn": 20}, storedAuth())

	// A new password replaces it.
	cfg.BasicAuth.Password = ptr("rotated-pw-2")
	upd, err = c.UpdateCheckWithResponse(ctx, id, nil, client.CheckUpdate{Config: client.NewCheckConfig(cfg)})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, upd.StatusCode(), string(upd.Body))
	assert.NotContains(t, string(upd.Body), "rotated-pw-2")
	assert.Equal(t, map[string]any{"auth": map[string]any{"username": "monitor", "password": "rotated-pw-2"}, "warn": 20}, storedAuth())
}

// An HTTP check run by a real worker: the stored basic_auth password (never the mask) is
// sent, every assertion is evaluated, and the failing one is named in the result's output
// with its severity as the result's status.
func TestHTTPCheckRunEndToEnd(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user, pass, ok := r.BasicAuth(); !ok || user != "monitor" || pass != "e2e-pw" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status":"degraded","items":[1,2]}`)
	}))
	defer target.Close()

	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	servertest.Run(t, server.Deps{Pool: env.Pool, Worker: &worker.Options{Name: "e2e-http", Location: "loopback",
		PollEvery: 50 * time.Millisecond, Runner: probes.NewRunner(probes.Options{})}})
	host := createHost(t, c, "api")

	assertions := []client.HttpAssertion{
		client.NewHttpAssertion(client.HttpAssertionHeaderMatches{Name: "Content-Type", Regex: "^application/json$"}),
		client.NewHttpAssertion(client.HttpAssertionJsonPath{Path: "$.items", Measure: ptr(client.JsonPathMeasureLength), Op: client.JsonPathOpEq, Value: 2}),
		client.NewHttpAssertion(client.HttpAssertionJsonPath{Path: "$.status", Op: client.JsonPathOpEq, Value: "ok", Severity: ptr(client.HttpAssertionSeverityWarning)}),
	}
	r, err := c.CreateCheckWithResponse(ctx, nil, client.NewCheckCreate(client.HttpCheckCreate{HostId: host.Id, Name: "api health",
		IntervalSec: ptr(3600), TimeoutSec: ptr(5), Config: client.HttpConfig{
			URL: target.URL + "/health", Assertions: &assertions,
			BasicAuth: &client.HttpBasicAuth{Username: "monitor", Password: ptr("e2e-pw")},
		}}))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), string(r.Body))
	id := r.JSON201.Id

	run, err := c.RunCheckWithResponse(ctx, id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, run.StatusCode(), string(run.Body))
	eventually(t, 20*time.Second, func() bool {
		r, err := c.GetCheckLastResultWithResponse(ctx, id, nil)
		return err == nil && r.JSON200 != nil && r.JSON200.RunId != nil && *r.JSON200.RunId == run.JSON202.RunId
	}, "the run-now result")
	last, err := c.GetCheckLastResultWithResponse(ctx, id, nil)
	require.NoError(t, err)
	res := *last.JSON200
	assert.Equal(t, client.CheckStatus(1), res.Status, "WARNING: only the warning assertion fails; %s", res.Output)
	assert.Contains(t, res.Output, "HTTP 200 OK")
	assert.Contains(t, res.Output, `assertion 2 (json_path $.status == "ok") failed: got "degraded"`)
	assert.NotContains(t, res.Output, "assertion 0")
	assert.NotContains(t, res.Output, "assertion 1")
	require.NotNil(t, res.Metrics)
	assert.Equal(t, 1.0, (*res.Metrics)["assertions_failed"])
}
