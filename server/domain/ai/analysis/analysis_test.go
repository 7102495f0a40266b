package analysis_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/secuaas/secumon/server/platform/jobs"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/domain/admin"
	"github.com/secuaas/secumon/server/domain/ai"
	"github.com/secuaas/secumon/server/domain/ai/aitest"
	"github.com/secuaas/secumon/server/domain/ai/analysis"
	"github.com/secuaas/secumon/server/domain/ai/providers"
	"github.com/secuaas/secumon/server/domain/incidents"
	"github.com/secuaas/secumon/server/testkit/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// fixture is a workspace with a database host whose port check fails, and a critical
// incident about it.
type fixture struct {
	pool     *pgxpool.Pool
	ws       uuid.UUID
	incident db.Incident
	jobs     *jobs.Client // inserts only
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	pool, _ := dbtest.New(t)
	q := db.New(pool)
	ws, err := admin.CreateWorkspace(ctx, q, "ai", "AI")
	require.NoError(t, err)
	h, err := q.CreateHost(ctx, db.CreateHostParams{WorkspaceID: ws.ID, ID: uuid.New(), Name: "db-prod-01", Hostname: "10.0.0.5", HostType: "server", Tags: []byte(`{}`), IsActive: true})
	require.NoError(t, err)
	c, err := q.CreateCheck(ctx, db.CreateCheckParams{WorkspaceID: ws.ID, ID: uuid.New(), HostID: h.ID, Name: "postgres", CheckType: "tcp",
		Config: json.RawMessage(`{"port":5432}`), IntervalSec: 60, TimeoutSec: 5, FailureThreshold: 2, Enabled: true})
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO check_latest (workspace_id, check_id, host_id, time, status, latency_ms, output, error_msg)
		VALUES ($1, $2, $3, now(), 2, 0, '', 'dial tcp 10.0.0.5:5432: connect: connection refused')`, ws.ID, c.ID, h.ID)
	require.NoError(t, err)
	var inc db.Incident
	require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		ch, err := incidents.Open(ctx, tx, incidents.New{WorkspaceID: ws.ID, Title: "postgres down on db-prod-01", Severity: "critical",
			HostID: &h.ID, CheckID: &c.ID, Actor: "system", Tags: map[string]string{"source": "auto"}})
		inc = ch.Incident
		return err
	}))
	inserter, err := jobs.New(pool, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	return fixture{pool: pool, ws: ws.ID, incident: inc, jobs: inserter}
}

func (f fixture) waitEnded(t *testing.T) db.AiSession {
	t.Helper()
	var sess db.AiSession
	require.Eventually(t, func() bool {
		var err error
		sess, err = db.New(f.pool).LatestAISession(context.Background(), db.LatestAISessionParams{WorkspaceID: f.ws, IncidentID: f.incident.ID})
		require.NoError(t, err)
		return sess.Status != analysis.StatusActive
	}, 15*time.Second, 20*time.Millisecond)
	return sess
}

func (f fixture) timeline(t *testing.T) []db.IncidentEvent {
	t.Helper()
	_, events, err := incidents.Get(context.Background(), db.New(f.pool), f.ws, f.incident.ID)
	require.NoError(t, err)
	return events
}

func notes(events []db.IncidentEvent, action string) []string {
	var out []string
	for _, e := range events {
		if e.Action == action {
			out = append(out, e.Note)
		}
	}
	return out
}

// Through the real Anthropic provider: each step costs 1M input tokens of Sonnet ($3); a $5
// budget allows two steps, then the loop stops by itself.
func TestBudgetExhaustionStopsTheLoop(t *testing.T) {
	f := newFixture(t)
	fake := aitest.Anthropic(t, func(n int, _ aitest.Request) aitest.Answer {
		return aitest.Answer{JSON: map[string]any{"findings": []any{
			map[string]any{"kind": "probable_cause", "text": "postgres on db-prod-01 refuses connections", "confidence": 0.8},
			map[string]any{"kind": "next_step", "text": fmt.Sprintf("step %d", n), "confidence": 0.8},
		}}, Usage: ai.Usage{InputTokens: 1_000_000, OutputTokens: 0}}
	})
	set, err := providers.New(ai.Config{Anthropic: ai.Remote{APIKey: "sk-ant-test", Model: "claude-sonnet-4-5", BaseURL: fake.URL}, AnalysisInterval: 30 * time.Millisecond})
	require.NoError(t, err)
	sessions := analysis.NewSessions(f.pool, set, f.jobs)
	aitest.RunAnalysis(t, f.pool, set)

	sess, err := sessions.Start(context.Background(), f.ws, f.incident.ID, analysis.Start{Provider: "claude", Justification: "outage", BudgetUSD: 5, Actor: "alice"})
	require.NoError(t, err)
	assert.Equal(t, ai.Anthropic, sess.Provider)
	assert.Equal(t, "alice", sess.Operator, "the operator defaults to the caller")

	ended := f.waitEnded(t)
	assert.Equal(t, analysis.StatusBudget, ended.Status)
	assert.InDelta(t, 6.0, ended.SpentUsd, 1e-9)
	assert.EqualValues(t, 2, ended.Calls)
	assert.EqualValues(t, 2_000_000, ended.InputTokens)
	time.Sleep(200 * time.Millisecond) // several intervals: no step after the end
	assert.Equal(t, 2, fake.Calls())

	events := f.timeline(t)
	assert.Len(t, notes(events, analysis.ActionStarted), 1)
	assert.Equal(t, []string{
		"Probable cause (confidence 0.80): postgres on db-prod-01 refuses connections", // once: not repeated by step 2
		"Suggested next step: step 1",
		"Suggested next step: step 2",
	}, notes(events, analysis.ActionFinding))
	stopped := notes(events, analysis.ActionStopped)
	require.Len(t, stopped, 1)
	assert.Contains(t, stopped[0], "budget of $5.00 is spent ($6.00 in 2 calls)")
	for _, e := range events {
		if e.Action == analysis.ActionFinding {
			assert.Equal(t, "ai", e.Actor)
		}
	}

	// The second request carried the incident's context, including the first findings.
	prompt := fake.Requests()[1].Body["messages"].([]any)[0].(map[string]any)["content"].([]any)[0].(map[string]any)["text"].(string)
	assert.Contains(t, prompt, "connection refused")
	assert.Contains(t, prompt, "Suggested next step: step 1")

	var usageRows int
	var usageCost float64
	require.NoError(t, f.pool.QueryRow(context.Background(),
		`SELECT count(*), sum(cost_usd) FROM ai_usage WHERE workspace_id = $1 AND session_id = $2 AND purpose = 'analysis'`, f.ws, sess.ID).Scan(&usageRows, &usageCost))
	assert.Equal(t, 2, usageRows)
	assert.InDelta(t, 6.0, usageCost, 1e-9)
}

// The local provider costs nothing: the loop runs until the incident resolves.
func TestResolutionStopsTheLoop(t *testing.T) {
	f := newFixture(t)
	set, err := providers.New(ai.Config{AnalysisInterval: 30 * time.Millisecond})
	require.NoError(t, err)
	sessions := analysis.NewSessions(f.pool, set, f.jobs)
	aitest.RunAnalysis(t, f.pool, set)

	_, err = sessions.Start(context.Background(), f.ws, f.incident.ID, analysis.Start{Provider: "local", Justification: "outage", Actor: "alice"})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(notes(f.timeline(t), analysis.ActionFinding)) > 0 }, 10*time.Second, 20*time.Millisecond)
	findings := notes(f.timeline(t), analysis.ActionFinding)
	assert.Contains(t, findings[0], "connection refused", "the local provider read the failing check")

	require.NoError(t, pgx.BeginFunc(context.Background(), f.pool, func(tx pgx.Tx) error {
		_, err := incidents.Resolve(context.Background(), tx, f.ws, f.incident.ID, "bob", "fixed", nil)
		return err
	}))
	ended := f.waitEnded(t)
	assert.Equal(t, analysis.StatusResolved, ended.Status)
	assert.Zero(t, ended.SpentUsd)
	assert.Contains(t, notes(f.timeline(t), analysis.ActionStopped)[0], "the incident is resolved")
	assert.Equal(t, findings, notes(f.timeline(t), analysis.ActionFinding), "unchanged facts: nothing posted twice")
}

// A provider that keeps failing ends the session instead of retrying forever.
func TestProviderFailuresEndTheSession(t *testing.T) {
	f := newFixture(t)
	fake := aitest.OpenAI(t, func(int, aitest.Request) aitest.Answer { return aitest.Answer{Status: http.StatusBadRequest} })
	set, err := providers.New(ai.Config{OpenAI: ai.Remote{APIKey: "k", BaseURL: fake.URL}, AnalysisInterval: 20 * time.Millisecond})
	require.NoError(t, err)
	sessions := analysis.NewSessions(f.pool, set, f.jobs)
	aitest.RunAnalysis(t, f.pool, set)

	_, err = sessions.Start(context.Background(), f.ws, f.incident.ID, analysis.Start{Provider: "openai", Justification: "outage", Actor: "alice"})
	require.NoError(t, err)
	ended := f.waitEnded(t)
	assert.Equal(t, analysis.StatusFailed, ended.Status)
	assert.Equal(t, analysis.MaxFailures, fake.Calls())
	assert.Contains(t, ended.LastError, "400")
	stopped := notes(f.timeline(t), analysis.ActionStopped)
	require.Len(t, stopped, 1)
	assert.True(t, strings.HasPrefix(stopped[0], "AI analysis stopped after 3 failed calls to openai"), stopped[0])
}

// A provider that answers, and bills, but never with a usable answer (no tool call) fails
// in a row like one that errors: counting the paid call once reset the failures, so the
// session ran until its budget was gone.
func TestPaidUnusableAnswersEndTheSession(t *testing.T) {
	f := newFixture(t)
	fake := aitest.Anthropic(t, func(int, aitest.Request) aitest.Answer {
		return aitest.Answer{Text: "I think the database is down.", Usage: ai.Usage{InputTokens: 1000, OutputTokens: 10}}
	})
	set, err := providers.New(ai.Config{Anthropic: ai.Remote{APIKey: "k", BaseURL: fake.URL}, AnalysisInterval: 20 * time.Millisecond})
	require.NoError(t, err)
	sessions := analysis.NewSessions(f.pool, set, f.jobs)
	aitest.RunAnalysis(t, f.pool, set)

	_, err = sessions.Start(context.Background(), f.ws, f.incident.ID, analysis.Start{Provider: "anthropic", Justification: "outage", BudgetUSD: 200, Actor: "alice"})
	require.NoError(t, err)
	ended := f.waitEnded(t)
	assert.Equal(t, analysis.StatusFailed, ended.Status)
	assert.EqualValues(t, analysis.MaxFailures, ended.Calls, "the paid calls are counted")
	assert.InDelta(t, 3*(1000*3+10*15)/1e6, ended.SpentUsd, 1e-9)
	assert.Contains(t, ended.LastError, "no record_findings tool call")
}

// A session outlives a restart with another model: its steps are priced at the model they
// call. Priced at the model of the session's start, absent from the new price table, they
// cost nothing and the budget never ran out.
func TestStepsArePricedAtTheModelCalled(t *testing.T) {
	f := newFixture(t)
	before, err := providers.New(ai.Config{Anthropic: ai.Remote{APIKey: "k", BaseURL: "http://127.0.0.1:9"}})
	require.NoError(t, err)
	sessions := analysis.NewSessions(f.pool, before, f.jobs)
	sess, err := sessions.Start(context.Background(), f.ws, f.incident.ID, analysis.Start{Provider: "claude", Justification: "outage", BudgetUSD: 5, Actor: "alice"})
	require.NoError(t, err)
	require.Equal(t, ai.DefaultAnthropicModel, sess.Model)

	// "Restart" with another model, priced by its own table.
	fake := aitest.Anthropic(t, func(n int, _ aitest.Request) aitest.Answer {
		return aitest.Answer{JSON: map[string]any{"findings": []any{}}, Usage: ai.Usage{InputTokens: 1_000_000}}
	})
	after, err := providers.New(ai.Config{
		Anthropic: ai.Remote{APIKey: "k", Model: "house-model", BaseURL: fake.URL}, Prices: ai.Prices{"house-model": {Input: 3, Output: 15}},
		AnalysisInterval: 20 * time.Millisecond,
	})
	require.NoError(t, err)
	aitest.RunAnalysis(t, f.pool, after)

	ended := f.waitEnded(t)
	assert.Equal(t, analysis.StatusBudget, ended.Status)
	assert.InDelta(t, 6.0, ended.SpentUsd, 1e-9)
	var model string
	require.NoError(t, f.pool.QueryRow(context.Background(),
		`SELECT DISTINCT model FROM ai_usage WHERE workspace_id = $1 AND session_id = $2`, f.ws, sess.ID).Scan(&model))
	assert.Equal(t, "house-model", model)
}
