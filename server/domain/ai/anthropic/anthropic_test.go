package anthropic_test

import (
	"context"
	"net/http"
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

func TestTagThroughTheSDK(t *testing.T) {
	t.Setenv("ANTHROPIC_BASE_URL", "http://192.0.2.1:9") // ignored: SECUMON_AI_* configures the client
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
	assert.Equal(t, "/v1/messages", req.Path)
	assert.Equal(t, "sk-ant-test", req.Header.Get("X-Api-Key"))
	assert.NotEmpty(t, req.Header.Get("Anthropic-Version"))
	assert.Equal(t, "claude-sonnet-4-5", req.Body["model"])
	assert.EqualValues(t, 1024, req.Body["max_tokens"])
	assert.Equal(t, map[string]any{"type": "tool", "name": ai.TagTool}, req.Body["tool_choice"], "the answer is a forced tool call")
	tools := req.Body["tools"].([]any)
	schema := tools[0].(map[string]any)["input_schema"].(map[string]any)
	assert.Contains(t, schema["properties"], "tags")
	msgs := req.Body["messages"].([]any)
	assert.Contains(t, msgs[0].(map[string]any)["content"].([]any)[0].(map[string]any)["text"], "web-prod-01", "the facts are in the prompt")
}

func TestAnalyzeThroughTheSDK(t *testing.T) {
	fake := aitest.Anthropic(t, func(int, aitest.Request) aitest.Answer {
		return aitest.Answer{JSON: map[string]any{"findings": []any{
			map[string]any{"kind": "probable_cause", "text": "the database is down", "confidence": 0.7},
			map[string]any{"kind": "next_step", "text": "restart it", "confidence": 0.7},
		}}, Usage: ai.Usage{InputTokens: 5000, OutputTokens: 200}}
	})
	p := anthropic.New(ai.Remote{APIKey: "k", Model: "claude-haiku-4-5", BaseURL: fake.URL}, 512, 10*time.Second)
	fs, usage, err := p.Analyze(context.Background(), ai.IncidentContext{Title: "db down", Severity: "critical"})
	require.NoError(t, err)
	assert.Equal(t, []ai.Finding{{Kind: "probable_cause", Text: "the database is down", Confidence: 0.7}, {Kind: "next_step", Text: "restart it", Confidence: 0.7}}, fs)
	assert.Equal(t, ai.Usage{InputTokens: 5000, OutputTokens: 200}, usage)
	assert.Equal(t, ai.FindingsTool, fake.Requests()[0].Body["tool_choice"].(map[string]any)["name"])
}

func TestUnusableAnswerStillReportsUsage(t *testing.T) {
	fake := aitest.Anthropic(t, func(int, aitest.Request) aitest.Answer {
		return aitest.Answer{Text: "I think it is a web server.", Usage: ai.Usage{InputTokens: 800, OutputTokens: 12}}
	})
	p := anthropic.New(ai.Remote{APIKey: "k", Model: "claude-sonnet-4-5", BaseURL: fake.URL}, 512, 10*time.Second)
	_, usage, err := p.Tag(context.Background(), host)
	require.Error(t, err)
	assert.Equal(t, ai.Usage{InputTokens: 800, OutputTokens: 12}, usage, "the tokens were spent")
}

func TestAPIError(t *testing.T) {
	fake := aitest.Anthropic(t, func(int, aitest.Request) aitest.Answer { return aitest.Answer{Status: http.StatusUnauthorized} })
	p := anthropic.New(ai.Remote{APIKey: "wrong", Model: "claude-sonnet-4-5", BaseURL: fake.URL}, 512, 10*time.Second)
	_, usage, err := p.Tag(context.Background(), host)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "401")
	assert.Equal(t, ai.Usage{}, usage)
	assert.Equal(t, 1, fake.Calls(), "a 401 is not retried")
}
