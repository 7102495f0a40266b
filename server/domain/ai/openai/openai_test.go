package openai_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/server/domain/ai"
	"github.com/secuaas/secumon/server/domain/ai/aitest"
	"github.com/secuaas/secumon/server/domain/ai/openai"
)

var host = ai.HostFacts{Name: "db-prod-01", Hostname: "10.0.0.5", HostType: "server",
	Checks: []ai.CheckFacts{{Name: "postgres", Type: "tcp", Port: 5432, Status: "OK"}}}

func TestTagThroughTheSDK(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-from-the-environment") // ignored: SECUMON_AI_* configures the client
	t.Setenv("OPENAI_BASE_URL", "http://192.0.2.1:9")
	fake := aitest.OpenAI(t, func(int, aitest.Request) aitest.Answer {
		return aitest.Answer{
			JSON: map[string]any{"tags": []any{
				map[string]any{"key": "role", "value": "database", "confidence": 0.9},
				map[string]any{"key": "environment", "value": "production", "confidence": 0.75},
			}},
			Usage: ai.Usage{InputTokens: 900, OutputTokens: 100},
		}
	})
	p := openai.New(ai.Remote{APIKey: "sk-openai-test", Model: "gpt-4.1-mini", BaseURL: fake.URL}, 1024, 10*time.Second)
	tags, usage, err := p.Tag(context.Background(), host)
	require.NoError(t, err)
	assert.Equal(t, []ai.Tag{{Key: "role", Value: "database", Confidence: 0.9}, {Key: "environment", Value: "production", Confidence: 0.75}}, tags)
	assert.Equal(t, ai.Usage{InputTokens: 900, OutputTokens: 100}, usage)
	assert.InDelta(t, 0.00052, ai.DefaultPrices.Cost(p.Model(), usage), 1e-12, "900×$0.40 + 100×$1.60 per million")

	require.Equal(t, 1, fake.Calls())
	req := fake.Requests()[0]
	assert.Equal(t, "/v1/chat/completions", req.Path)
	assert.Equal(t, "Bearer sk-openai-test", req.Header.Get("Authorization"))
	assert.Equal(t, "gpt-4.1-mini", req.Body["model"])
	assert.EqualValues(t, 1024, req.Body["max_completion_tokens"])
	format := req.Body["response_format"].(map[string]any)
	assert.Equal(t, "json_schema", format["type"])
	schema := format["json_schema"].(map[string]any)
	assert.Equal(t, ai.TagTool, schema["name"])
	assert.Equal(t, true, schema["strict"])
	msgs := req.Body["messages"].([]any)
	require.Len(t, msgs, 2)
	assert.Equal(t, "system", msgs[0].(map[string]any)["role"])
	assert.Contains(t, msgs[1].(map[string]any)["content"], "5432", "the facts are in the prompt")
}

func TestAnalyzeThroughTheSDK(t *testing.T) {
	fake := aitest.OpenAI(t, func(int, aitest.Request) aitest.Answer {
		return aitest.Answer{JSON: map[string]any{"findings": []any{
			map[string]any{"kind": "related", "text": "web-prod-01 answers 502", "confidence": 0.6},
		}}, Usage: ai.Usage{InputTokens: 3000, OutputTokens: 50}}
	})
	p := openai.New(ai.Remote{APIKey: "k", Model: "gpt-4o-mini", BaseURL: fake.URL}, 512, 10*time.Second)
	fs, usage, err := p.Analyze(context.Background(), ai.IncidentContext{Title: "db down", Severity: "critical"})
	require.NoError(t, err)
	assert.Equal(t, []ai.Finding{{Kind: "related", Text: "web-prod-01 answers 502", Confidence: 0.6}}, fs)
	assert.Equal(t, ai.Usage{InputTokens: 3000, OutputTokens: 50}, usage)
}

func TestUnusableAnswerStillReportsUsage(t *testing.T) {
	fake := aitest.OpenAI(t, func(int, aitest.Request) aitest.Answer {
		return aitest.Answer{Text: "a database, probably", Usage: ai.Usage{InputTokens: 700, OutputTokens: 5}}
	})
	p := openai.New(ai.Remote{APIKey: "k", Model: "gpt-4.1-mini", BaseURL: fake.URL}, 512, 10*time.Second)
	_, usage, err := p.Tag(context.Background(), host)
	require.Error(t, err)
	assert.Equal(t, ai.Usage{InputTokens: 700, OutputTokens: 5}, usage)
}

func TestAPIError(t *testing.T) {
	fake := aitest.OpenAI(t, func(int, aitest.Request) aitest.Answer { return aitest.Answer{Status: http.StatusBadRequest} })
	p := openai.New(ai.Remote{APIKey: "k", Model: "gpt-4.1-mini", BaseURL: fake.URL}, 512, 10*time.Second)
	_, _, err := p.Tag(context.Background(), host)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "400")
	assert.Equal(t, 1, fake.Calls())
}
