package anthropic_test

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/server/domain/ai"
	"github.com/secuaas/secumon/server/domain/ai/aitest"
	"github.com/secuaas/secumon/server/domain/ai/anthropic"
)

var host = ai.HostFacts{Name: "web-prod-01", Hostname: "10.0.0.12", HostType: "server",
	Checks: []ai.CheckFacts{{Name: "https", Type: "http", Port: 443, Target: "https://shop.example.com/"}}}

// The request is what the Messages API requires: POST /v1/messages with the key in x-api-key,
// the API version, a JSON body with the model, max_tokens, the system prompt, one user
// message, and the answer's tool forced.
func TestTag(t *testing.T) {
	t.Setenv("ANTHROPIC_BASE_URL", "http://192.0.2.1:9") // ignored: SECUMON_AI_* configures the client
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-from-the-environment")
	fake := aitest.Anthropic(t, func(int, aitest.Request) aitest.Answer {
		return aitest.Answer{
			JSON:  map[string]any{"tags": []any{map[string]any{"key": "role", "value": "web-server", "confidence": 0.82}}},
			Usage: ai.Usage{InputTokens: 1200, OutputTokens: 300},
		}
	})
	p := anthropic.New(ai.Remote{APIKey: "sk-ant-test", Model: "claude-sonnet-4-5", BaseURL: fake.URL}, 1024, 10*time.Second)
	tags, usage, err := p.Tag(context.Background(), host)
	require.NoError(t, err)
	assert.Equal(t, []ai.Tag{{Key: "role", Value: "web-server", Confidence: 0.82}}, tags)
	assert.Equal(t, ai.Usage{InputTokens: 1200, OutputTokens: 300}, usage)
	assert.InDelta(t, 0.0081, ai.DefaultPrices.Cost(p.Model(), usage), 1e-12, "1200×$3 + 300×$15 per million")

	require.Equal(t, 1, fake.Calls())
	req := fake.Requests()[0]
	assert.Equal(t, http.MethodPost, req.Method)
	assert.Equal(t, "/v1/messages", req.Path)
	assert.Equal(t, []string{"sk-ant-test"}, req.Header.Values("X-Api-Key"))
	assert.Equal(t, "2023-06-01", req.Header.Get("Anthropic-Version"))
	assert.Equal(t, "application/json", req.Header.Get("Content-Type"))
	assert.Empty(t, req.Header.Get("Authorization"), "the key goes in x-api-key only")

	assert.Equal(t, "claude-sonnet-4-5", req.Body["model"])
	assert.EqualValues(t, 1024, req.Body["max_tokens"])
	assert.Equal(t, []any{map[string]any{"type": "text", "text": ai.TagInstructions}}, req.Body["system"])
	msgs := req.Body["messages"].([]any)
	require.Len(t, msgs, 1)
	msg := msgs[0].(map[string]any)
	assert.Equal(t, "user", msg["role"])
	assert.Equal(t, []any{map[string]any{"type": "text", "text": ai.FactsMessage(host)}}, msg["content"], "the facts are the prompt")
	assert.Contains(t, ai.FactsMessage(host), "web-prod-01")

	assert.Equal(t, map[string]any{"type": "tool", "name": ai.TagTool}, req.Body["tool_choice"], "the answer is a forced tool call")
	tools := req.Body["tools"].([]any)
	require.Len(t, tools, 1)
	tool := tools[0].(map[string]any)
	assert.Equal(t, ai.TagTool, tool["name"])
	assert.Equal(t, "Record the tags of the host.", tool["description"])
	schema := tool["input_schema"].(map[string]any)
	assert.Equal(t, "object", schema["type"])
	assert.Equal(t, []any{"tags"}, schema["required"])
	assert.Contains(t, schema["properties"], "tags")
	assert.ElementsMatch(t, []string{"model", "max_tokens", "system", "messages", "tools", "tool_choice"}, slices.Collect(maps.Keys(req.Body)), "nothing else is sent")
}

func TestAnalyze(t *testing.T) {
	fake := aitest.Anthropic(t, func(int, aitest.Request) aitest.Answer {
		return aitest.Answer{JSON: map[string]any{"findings": []any{
			map[string]any{"kind": "probable_cause", "text": "the database is down", "confidence": 0.7},
			map[string]any{"kind": "next_step", "text": "restart it", "confidence": 0.7},
		}}, Usage: ai.Usage{InputTokens: 5000, OutputTokens: 200}}
	})
	p := anthropic.New(ai.Remote{APIKey: "k", Model: "claude-haiku-4-5", BaseURL: fake.URL + "/"}, 512, 10*time.Second)
	fs, usage, err := p.Analyze(context.Background(), ai.IncidentContext{Title: "db down", Severity: "critical"})
	require.NoError(t, err)
	assert.Equal(t, []ai.Finding{{Kind: "probable_cause", Text: "the database is down", Confidence: 0.7}, {Kind: "next_step", Text: "restart it", Confidence: 0.7}}, fs)
	assert.Equal(t, ai.Usage{InputTokens: 5000, OutputTokens: 200}, usage)
	req := fake.Requests()[0]
	assert.Equal(t, "/v1/messages", req.Path, "a base URL's trailing slash does not double")
	assert.Equal(t, ai.FindingsTool, req.Body["tool_choice"].(map[string]any)["name"])
	assert.Equal(t, ai.AnalyzeInstructions, req.Body["system"].([]any)[0].(map[string]any)["text"])
}

func TestUnusableAnswerStillReportsUsage(t *testing.T) {
	fake := aitest.Anthropic(t, func(int, aitest.Request) aitest.Answer {
		return aitest.Answer{Text: "I think it is a web server.", Usage: ai.Usage{InputTokens: 800, OutputTokens: 12}}
	})
	p := anthropic.New(ai.Remote{APIKey: "k", Model: "claude-sonnet-4-5", BaseURL: fake.URL}, 512, 10*time.Second)
	_, usage, err := p.Tag(context.Background(), host)
	require.Error(t, err)
	assert.Equal(t, "anthropic: the answer has no record_host_tags tool call (stop reason end_turn)", err.Error())
	assert.Equal(t, ai.Usage{InputTokens: 800, OutputTokens: 12}, usage, "the tokens were spent")
}

// An API error names the status and the API's message and type, never the key, and is not
// retried when it cannot succeed.
func TestAPIError(t *testing.T) {
	fake := aitest.Anthropic(t, func(int, aitest.Request) aitest.Answer { return aitest.Answer{Status: http.StatusUnauthorized} })
	p := anthropic.New(ai.Remote{APIKey: "sk-ant-wrong-key", Model: "claude-sonnet-4-5", BaseURL: fake.URL}, 512, 10*time.Second)
	_, usage, err := p.Tag(context.Background(), host)
	require.Error(t, err)
	assert.Equal(t, "anthropic: POST "+fake.URL+"/v1/messages: 401 Unauthorized: "+aitest.ErrorMessage+" (api_error)", err.Error())
	assert.NotContains(t, err.Error(), "sk-ant-wrong-key")
	assert.Equal(t, ai.Usage{}, usage)
	assert.Equal(t, 1, fake.Calls(), "a 401 is not retried")
}

// Overloaded (529) and rate-limited (429) calls are tried again after the wait the API asks
// for, three attempts in all.
func TestOverloadedIsRetried(t *testing.T) {
	retryNow := http.Header{"Retry-After": {"0"}}
	fake := aitest.Anthropic(t, func(n int, _ aitest.Request) aitest.Answer {
		switch n {
		case 1:
			return aitest.Answer{Status: 529, Header: retryNow}
		case 2:
			return aitest.Answer{Status: http.StatusTooManyRequests, Header: retryNow}
		}
		return aitest.Answer{JSON: map[string]any{"tags": []any{}}, Usage: ai.Usage{InputTokens: 10, OutputTokens: 1}}
	})
	p := anthropic.New(ai.Remote{APIKey: "k", Model: "claude-sonnet-4-5", BaseURL: fake.URL}, 512, 10*time.Second)
	start := time.Now()
	tags, usage, err := p.Tag(context.Background(), host)
	require.NoError(t, err)
	assert.Empty(t, tags)
	assert.Equal(t, ai.Usage{InputTokens: 10, OutputTokens: 1}, usage)
	assert.Equal(t, 3, fake.Calls())
	assert.Less(t, time.Since(start), 400*time.Millisecond, "Retry-After: 0 replaces the backoff")
	reqs := fake.Requests()
	assert.Equal(t, reqs[0].Body, reqs[2].Body, "the same request is sent again")
}

func TestRetriesAreBounded(t *testing.T) {
	fake := aitest.Anthropic(t, func(int, aitest.Request) aitest.Answer {
		return aitest.Answer{Status: 529, Header: http.Header{"Retry-After": {"0"}}}
	})
	p := anthropic.New(ai.Remote{APIKey: "k", Model: "claude-sonnet-4-5", BaseURL: fake.URL}, 512, 10*time.Second)
	_, _, err := p.Tag(context.Background(), host)
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), ": 529: "+aitest.ErrorMessage), err.Error())
	assert.Equal(t, 3, fake.Calls())
}
