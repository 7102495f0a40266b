package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/server"
	"github.com/secuaas/secumon/server/domain/ai"
	"github.com/secuaas/secumon/server/domain/ai/aitest"
	"github.com/secuaas/secumon/server/domain/ai/providers"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

func withAI(cfg ai.Config) func(*server.Deps) { return func(d *server.Deps) { d.AI = cfg } }

// aiHost creates a host with tags and checks. Its addresses are documentation values: no
// worker runs in these tests, so nothing probes them.
func aiHost(t *testing.T, env *servertest.Env, c *client.ClientWithResponses, h client.HostCreate, checks ...client.CheckCreate) client.Host {
	t.Helper()
	ctx := context.Background()
	r, err := c.CreateHostWithResponse(ctx, nil, h)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), string(r.Body))
	for _, ck := range checks {
		cr, err := c.CreateCheckWithResponse(ctx, nil, onHost(t, ck, r.JSON201.Id))
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, cr.StatusCode(), string(cr.Body))
	}
	return *r.JSON201
}

// onHost returns ck with its host_id set to host.
func onHost(t *testing.T, ck client.CheckCreate, host uuid.UUID) client.CheckCreate {
	t.Helper()
	raw, err := ck.MarshalJSON()
	require.NoError(t, err)
	var fields map[string]any
	require.NoError(t, json.Unmarshal(raw, &fields))
	fields["host_id"] = host
	raw, err = json.Marshal(fields)
	require.NoError(t, err)
	var out client.CheckCreate
	require.NoError(t, out.UnmarshalJSON(raw))
	return out
}

// snmpFacts stores an SNMP check's latest result with its sysDescr, as the digester does.
func snmpFacts(t *testing.T, env *servertest.Env, hostID uuid.UUID, sysDescr string) {
	t.Helper()
	ctx := context.Background()
	facts, err := json.Marshal(map[string]string{"sysDescr": sysDescr, "sysName": "sw"})
	require.NoError(t, err)
	_, err = env.Pool.Exec(ctx, `INSERT INTO check_latest (workspace_id, check_id, host_id, time, status, latency_ms, output, error_msg, facts)
		SELECT workspace_id, id, host_id, now(), 0, 1, 'ok', '', $3 FROM checks WHERE workspace_id = $1 AND host_id = $2 AND check_type = 'snmp'`,
		env.Workspace, hostID, facts)
	require.NoError(t, err)
}

func problemDetail(t *testing.T, body []byte) string {
	t.Helper()
	var p struct {
		Detail string `json:"detail"`
		Errors []struct {
			Field string `json:"field"`
		} `json:"errors"`
	}
	require.NoError(t, json.Unmarshal(body, &p), string(body))
	for _, f := range p.Errors {
		p.Detail += " field:" + f.Field
	}
	return p.Detail
}

func TestAITagHostWithTheLocalProvider(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()
	web := aiHost(t, env, c, client.HostCreate{Name: "web-prod-01", Hostname: "10.0.0.12", Tags: &client.Tags{"env": "prod", "role": "frontend"}},
		client.NewCheckCreate(client.HttpCheckCreate{Name: "https web-prod-01", Config: client.HttpConfig{URL: "https://user:secret@shop.example.com:443/health?token=x"}}))

	r, err := c.AiTagHostWithResponse(ctx, web.Id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.StatusCode(), string(r.Body))
	got := r.JSON200
	assert.Equal(t, client.HostRef{Id: web.Id, Name: "web-prod-01"}, got.Host)
	assert.Equal(t, client.Tags{"role": "web-server", "environment": "production"}, got.AiTags)
	assert.Greater(t, got.Confidence, 0.5)
	assert.Zero(t, got.CostUsd, "the local provider is free")
	assert.Equal(t, "local", deref(got.Provider))
	assert.Equal(t, client.Tags{"env": "prod", "role": "frontend", "ai:role": "web-server", "ai:environment": "production"}, got.Tags,
		"the user's tags stay, AI's are prefixed")

	// A user corrects an AI tag: tagging again leaves the correction alone.
	upd, err := c.UpdateHostWithResponse(ctx, web.Id, nil, client.HostUpdate{Tags: &client.Tags{"env": "prod", "role": "frontend", "ai:role": "reverse-proxy", "ai:environment": "production"}})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, upd.StatusCode(), string(upd.Body))
	again, err := c.AiTagHostWithResponse(ctx, web.Id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, again.StatusCode())
	assert.Equal(t, "reverse-proxy", again.JSON200.Tags["ai:role"])
	stored, err := c.GetHostWithResponse(ctx, web.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, again.JSON200.Tags, stored.JSON200.Tags)

	// A Cisco switch is known by its SNMP sysDescr.
	sw := aiHost(t, env, c, client.HostCreate{Name: "bldg2-floor3", Hostname: "10.20.3.2", HostType: ptr(client.HostTypeNetwork)},
		client.NewCheckCreate(client.SnmpCheckCreate{Name: "snmp bldg2-floor3", Config: &client.SnmpConfig{Community: ptr("s3cret")}}))
	snmpFacts(t, env, sw.Id, "Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version 15.2(7)E4, RELEASE SOFTWARE (fc2)")
	swr, err := c.AiTagHostWithResponse(ctx, sw.Id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, swr.StatusCode(), string(swr.Body))
	assert.Equal(t, client.Tags{"role": "switch", "os": "cisco-ios", "vendor": "cisco"}, swr.JSON200.AiTags)

	// 404 for an unknown host; 403 for a viewer.
	missing, err := c.AiTagHostWithResponse(ctx, uuid.New(), nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, missing.StatusCode())
	viewer := env.Client(t, env.Token(t, "default", "viewer").Token)
	denied, err := viewer.AiTagHostWithResponse(ctx, web.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusForbidden, denied.StatusCode())
}

// Bulk tagging through the real OpenAI provider against a loopback fake: the cost of each host is
// what its tokens cost, one host's failure does not stop the others, and no secret of a check
// reaches the provider.
func TestAITagHostsBulkWithOpenAI(t *testing.T) {
	fake := aitest.OpenAI(t, func(_ int, r aitest.Request) aitest.Answer {
		prompt := r.Body["messages"].([]any)[1].(map[string]any)["content"].(string)
		if strings.Contains(prompt, "flaky-01") {
			return aitest.Answer{Status: http.StatusBadRequest}
		}
		return aitest.Answer{
			JSON:  map[string]any{"tags": []any{map[string]any{"key": "role", "value": "database", "confidence": 0.9}}},
			Usage: ai.Usage{InputTokens: 1000, OutputTokens: 250}, // gpt-4.1-mini: $0.0004 + $0.0004
		}
	})
	env := servertest.Start(t, withAI(ai.Config{OpenAI: ai.Remote{APIKey: "sk-test", BaseURL: fake.URL}}))
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()
	db1 := aiHost(t, env, c, client.HostCreate{Name: "db-prod-01", Hostname: "10.0.0.5", Tags: &client.Tags{"team": "data"}},
		client.NewCheckCreate(client.TcpCheckCreate{Name: "postgres", Config: client.TcpConfig{Port: 5432}}),
		client.NewCheckCreate(client.SnmpCheckCreate{Name: "snmp db", Config: &client.SnmpConfig{Community: ptr("do-not-leak")}}))
	flaky := aiHost(t, env, c, client.HostCreate{Name: "flaky-01", Hostname: "10.0.0.6"})
	aiHost(t, env, c, client.HostCreate{Name: "retired-01", Hostname: "10.0.0.7", IsActive: ptr(false)})

	r, err := c.AiTagHostsWithResponse(ctx, nil, client.AiTagBulkRequest{ActiveOnly: ptr(true), Provider: ptr(client.AiProviderOpenAI)})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.StatusCode(), string(r.Body))
	res := r.JSON200
	assert.Equal(t, 1, res.Tagged)
	assert.Equal(t, 1, res.Failed)
	assert.InDelta(t, 0.0008, deref(res.CostUsd), 1e-12)
	require.Len(t, res.Results, 2, "the inactive host is skipped")
	byHost := map[uuid.UUID]client.AiTagItem{}
	for _, it := range res.Results {
		byHost[it.HostId] = it
	}
	assert.Equal(t, client.AiTagItemStatusOk, byHost[db1.Id].Status)
	assert.Equal(t, client.Tags{"role": "database"}, deref(byHost[db1.Id].AiTags))
	assert.InDelta(t, 0.9, deref(byHost[db1.Id].Confidence), 1e-9)
	assert.Equal(t, client.AiTagItemStatusError, byHost[flaky.Id].Status)
	assert.Contains(t, deref(byHost[flaky.Id].Error), "openai")

	host, err := c.GetHostWithResponse(ctx, db1.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, client.Tags{"team": "data", "ai:role": "database"}, host.JSON200.Tags)
	for _, req := range fake.Requests() {
		b, _ := json.Marshal(req.Body)
		assert.NotContains(t, string(b), "do-not-leak", "check secrets stay in SecuMon")
	}

	var calls int
	var cost float64
	require.NoError(t, env.Pool.QueryRow(ctx, `SELECT count(*), coalesce(sum(cost_usd), 0) FROM ai_usage WHERE workspace_id = $1 AND purpose = 'tag'`, env.Workspace).Scan(&calls, &cost))
	assert.Equal(t, 1, calls, "the successful call is recorded; the refused one used no tokens")
	assert.InDelta(t, 0.0008, cost, 1e-12)

	// Without a body: every host, with the default provider (local).
	all, err := c.AiTagHostsWithBodyWithResponse(ctx, nil, "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, all.StatusCode(), string(all.Body))
	assert.Equal(t, 3, all.JSON200.Tagged)
}

func TestAIProviderWithoutKeyIs503(t *testing.T) {
	env := servertest.Start(t, withAI(ai.Config{DefaultProvider: "anthropic"}))
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()
	h := aiHost(t, env, c, client.HostCreate{Name: "web-1", Hostname: "127.0.0.1"})

	single, err := c.AiTagHostWithResponse(ctx, h.Id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusServiceUnavailable, single.StatusCode())
	assert.Equal(t, "application/problem+json", single.HTTPResponse.Header.Get("Content-Type"))
	assert.Contains(t, problemDetail(t, single.Body), "SECUMON_AI_ANTHROPIC_API_KEY")

	bulk, err := c.AiTagHostsWithResponse(ctx, nil, client.AiTagBulkRequest{Provider: ptr(client.AiProviderOpenAI)})
	require.NoError(t, err)
	require.Equal(t, http.StatusServiceUnavailable, bulk.StatusCode())
	assert.Contains(t, problemDetail(t, bulk.Body), "SECUMON_AI_OPENAI_API_KEY")

	local, err := c.AiTagHostsWithResponse(ctx, nil, client.AiTagBulkRequest{Provider: ptr(client.AiProviderLocal)})
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, local.StatusCode(), "local always works")

	stored, err := c.GetHostWithResponse(ctx, h.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, client.Tags{"ai:role": "web-server"}, stored.JSON200.Tags, "only the local run changed the host")
}

func createAIIncident(t *testing.T, c *client.ClientWithResponses, title string, sev client.Severity, hostID *uuid.UUID) client.Incident {
	t.Helper()
	r, err := c.CreateIncidentWithResponse(context.Background(), nil, client.IncidentCreate{Title: title, Severity: &sev, HostId: hostID})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), string(r.Body))
	return *r.JSON201
}

func timelineOf(t *testing.T, c *client.ClientWithResponses, id uuid.UUID) []client.IncidentEvent {
	t.Helper()
	r, err := c.GetIncidentWithResponse(context.Background(), id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.StatusCode())
	return deref(r.JSON200.Timeline)
}

func TestAIModeLifecycle(t *testing.T) {
	cfg := ai.Config{AnalysisInterval: 30 * time.Millisecond}
	env := servertest.Start(t, withAI(cfg))
	set, err := providers.New(cfg)
	require.NoError(t, err)
	aitest.RunAnalysis(t, env.Pool, set) // as `secumon serve` does
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()
	start := func(id uuid.UUID, body string) *client.StartIncidentAiModeResponse {
		t.Helper()
		r, err := c.StartIncidentAiModeWithBodyWithResponse(ctx, id, nil, "application/json", strings.NewReader(body))
		require.NoError(t, err)
		return r
	}
	h := aiHost(t, env, c, client.HostCreate{Name: "web-prod-01", Hostname: "10.0.0.12"},
		client.NewCheckCreate(client.PingCheckCreate{Name: "ping web-prod-01"}))

	major := createAIIncident(t, c, "slow pages", client.SeverityMajor, &h.Id)
	r := start(major.Id, `{"provider":"local","justification":"why not"}`)
	assert.Equal(t, http.StatusConflict, r.StatusCode(), "critical incidents only")

	inc := createAIIncident(t, c, "web-prod-01 ne répond plus au ping", client.SeverityCritical, &h.Id)
	noCost, err := c.GetIncidentAiCostWithResponse(ctx, inc.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, noCost.StatusCode(), "never had a session")

	for body, field := range map[string]string{
		`{"provider":"local","justification":"x","budget_usd":500}`: "budget_usd",
		`{"provider":"local","justification":"x","budget_usd":0}`:   "budget_usd",
		`{"provider":"local"}`:                                          "justification",
		`{"provider":"gemini","justification":"x"}`:                     "provider",
		`{"provider":"local","justification":"a\u0000b"}`:               "justification",
		`{"provider":"local","justification":"x","operator":"a\u0000"}`: "operator",
	} {
		r := start(inc.Id, body)
		require.Equal(t, http.StatusBadRequest, r.StatusCode(), body)
		assert.Contains(t, problemDetail(t, r.Body), field, body)
	}
	r = start(inc.Id, `{"provider":"claude","justification":"x"}`)
	assert.Equal(t, http.StatusServiceUnavailable, r.StatusCode())
	assert.Contains(t, problemDetail(t, r.Body), "SECUMON_AI_ANTHROPIC_API_KEY")
	r = start(uuid.New(), `{"provider":"local","justification":"x"}`)
	assert.Equal(t, http.StatusNotFound, r.StatusCode())

	r = start(inc.Id, `{"provider":"local","justification":"Panne critique, analyse rapide.","budget_usd":20,"operator":"Alice"}`)
	require.Equal(t, http.StatusOK, r.StatusCode(), string(r.Body))
	assert.Equal(t, inc.Id, r.JSON200.IncidentId)
	assert.Equal(t, "local", r.JSON200.Provider)
	assert.Equal(t, 20.0, r.JSON200.BudgetUsd)
	assert.True(t, r.JSON200.Active)
	assert.Equal(t, "Alice", deref(r.JSON200.Operator))
	assert.WithinDuration(t, time.Now(), r.JSON200.StartedAt, time.Minute)

	twice := start(inc.Id, `{"provider":"local","justification":"again"}`)
	assert.Equal(t, http.StatusConflict, twice.StatusCode(), string(twice.Body))

	// The loop posts findings to the timeline as "ai".
	var finding client.IncidentEvent
	require.Eventually(t, func() bool {
		for _, e := range timelineOf(t, c, inc.Id) {
			if e.Action == client.IncidentEventActionAiFinding {
				finding = e
				return true
			}
		}
		return false
	}, 10*time.Second, 20*time.Millisecond)
	assert.Equal(t, "ai", deref(finding.Actor))
	assert.Contains(t, deref(finding.Note), "Probable cause")

	cost, err := c.GetIncidentAiCostWithResponse(ctx, inc.Id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, cost.StatusCode())
	assert.True(t, cost.JSON200.Active)
	assert.Equal(t, 20.0, cost.JSON200.BudgetUsd)
	assert.Zero(t, cost.JSON200.SpentUsd)
	assert.Equal(t, "local", deref(cost.JSON200.Provider))
	assert.GreaterOrEqual(t, deref(cost.JSON200.Calls), 1)

	stop, err := c.StopIncidentAiModeWithResponse(ctx, inc.Id)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, stop.StatusCode(), string(stop.Body))
	assert.Equal(t, client.AiModeEnded{IncidentId: inc.Id, TotalUsd: 0, Status: client.AiModeEndedStatusEnded}, *stop.JSON200)
	again, err := c.StopIncidentAiModeWithResponse(ctx, inc.Id)
	require.NoError(t, err)
	assert.Equal(t, http.StatusConflict, again.StatusCode(), "no active session")

	after, err := c.GetIncidentAiCostWithResponse(ctx, inc.Id, nil)
	require.NoError(t, err)
	assert.False(t, after.JSON200.Active)
	assert.NotNil(t, after.JSON200.EndedAt)

	actions := map[client.IncidentEventAction]int{}
	for _, e := range timelineOf(t, c, inc.Id) {
		actions[e.Action]++
	}
	assert.Equal(t, 1, actions[client.IncidentEventActionAiStarted])
	assert.Equal(t, 1, actions[client.IncidentEventActionAiStopped])

	// A resolved critical incident cannot start the mode.
	done := createAIIncident(t, c, "over", client.SeverityCritical, nil)
	res, err := c.QuickResolveIncidentWithResponse(ctx, done.Id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode())
	assert.Equal(t, http.StatusConflict, start(done.Id, `{"provider":"local","justification":"x"}`).StatusCode())
}

// Through the real Anthropic provider: the cost endpoint reports what the calls cost, and a spent
// budget ends the session by itself.
func TestAIModeCostWithAnthropic(t *testing.T) {
	fake := aitest.Anthropic(t, func(int, aitest.Request) aitest.Answer {
		return aitest.Answer{
			JSON:  map[string]any{"findings": []any{map[string]any{"kind": "probable_cause", "text": "the uplink is down", "confidence": 0.7}}},
			Usage: ai.Usage{InputTokens: 1_000_000, OutputTokens: 10_000}, // Sonnet: $3 + $0.15
		}
	})
	cfg := ai.Config{Anthropic: ai.Remote{APIKey: "sk-ant-test", BaseURL: fake.URL}, AnalysisInterval: 30 * time.Millisecond}
	env := servertest.Start(t, withAI(cfg))
	set, err := providers.New(cfg)
	require.NoError(t, err)
	aitest.RunAnalysis(t, env.Pool, set)
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()
	inc := createAIIncident(t, c, "site down", client.SeverityCritical, nil)

	r, err := c.StartIncidentAiModeWithResponse(ctx, inc.Id, nil, client.AiModeStart{Provider: client.AiProviderClaude, Justification: "outage", BudgetUsd: ptr(2.0)})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.StatusCode(), string(r.Body))
	assert.Equal(t, "anthropic", r.JSON200.Provider, "claude is anthropic")

	var cost *client.AiCost
	require.Eventually(t, func() bool {
		cr, err := c.GetIncidentAiCostWithResponse(ctx, inc.Id, nil)
		require.NoError(t, err)
		cost = cr.JSON200
		return !cost.Active
	}, 10*time.Second, 20*time.Millisecond)
	assert.InDelta(t, 3.15, cost.SpentUsd, 1e-9)
	assert.Equal(t, 1, deref(cost.Calls), "one call spent the $2 budget")
	assert.Equal(t, 1_000_000, deref(cost.InputTokens))
	assert.Equal(t, 10_000, deref(cost.OutputTokens))
	assert.Equal(t, 1, fake.Calls())

	stop, err := c.StopIncidentAiModeWithResponse(ctx, inc.Id)
	require.NoError(t, err)
	assert.Equal(t, http.StatusConflict, stop.StatusCode(), "it already ended")
}

// A session whose background job River gave up on would stay active forever: starting the
// mode again ends it as failed instead of answering 409.
func TestAIModeRestartsAfterItsJobWasGivenUp(t *testing.T) {
	env := servertest.Start(t, withAI(ai.Config{}))
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()
	h := aiHost(t, env, c, client.HostCreate{Name: "db-01", Hostname: "127.0.0.1"},
		client.NewCheckCreate(client.PingCheckCreate{Name: "ping db-01"}))
	inc := createAIIncident(t, c, "db-01 down", client.SeverityCritical, &h.Id)
	start := func() int {
		r, err := c.StartIncidentAiModeWithResponse(ctx, inc.Id, nil, client.AiModeStart{Provider: "local", Justification: "outage"})
		require.NoError(t, err)
		return r.StatusCode()
	}
	require.Equal(t, http.StatusOK, start())
	assert.Equal(t, http.StatusConflict, start(), "its job is still queued")

	_, err := env.Pool.Exec(ctx, "UPDATE river_job SET state = 'discarded', finalized_at = now() WHERE kind = 'ai_analysis_step'")
	require.NoError(t, err)
	assert.Equal(t, http.StatusConflict, start(), "a young session is never judged orphaned")
	_, err = env.Pool.Exec(ctx, "UPDATE ai_sessions SET started_at = started_at - interval '2 minutes'")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, start())
	var statuses []string
	rows, err := env.Pool.Query(ctx, "SELECT status FROM ai_sessions ORDER BY started_at")
	require.NoError(t, err)
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		statuses = append(statuses, s)
	}
	assert.Equal(t, []string{"failed", "active"}, statuses)
}
