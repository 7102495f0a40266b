package openai_test

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
	"github.com/secuaas/secumon/server/domain/ai/openai"
)

var host = ai.HostFacts{Name: "db-prod-01", Hostname: "10.0.0.5", HostType: "server",
	Checks: []ai.CheckFacts{{Name: "postgres", Type: "tcp", Port: 5432, Status: "OK"}}}

// The request is what Chat Completions requires: POST {base}/chat/completions with the key
// as a bearer token, a JSON body with the model, the system and user messages, the token cap
// and the answer's strict JSON schema.
func TestTag(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-from-the-environment") // ignored: SECUMON_AI_* configures the client
	t.Setenv("OPENAI_BASE_URL", "http://192.0.2.1:9")
	t.Setenv("OPENAI_ORG_ID", "org-from-the-environment")
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
	assert.Equal(t, http.MethodPost, req.Method)
	assert.Equal(t, "/v1/chat/completions", req.Path)
	assert.Equal(t, []string{"Bearer sk-openai-test"}, req.Header.Values("Authorization"))
	assert.Equal(t, "application/json", req.Header.Get("Content-Type"))
	assert.Empty(t, req.Header.Get("OpenAI-Organization"), "OPENAI_ORG_ID is not read")

	assert.Equal(t, "gpt-4.1-mini", req.Body["model"])
	assert.EqualValues(t, 1024, req.Body["max_completion_tokens"])
	assert.Equal(t, []any{
		map[string]any{"role": "system", "content": ai.TagInstructions},
		map[string]any{"role": "user", "content": ai.FactsMessage(host)},
	}, req.Body["messages"], "the facts are the prompt")
	assert.Contains(t, ai.FactsMessage(host), "5432")
	format := req.Body["response_format"].(map[string]any)
	assert.Equal(t, "json_schema", format["type"])
	schema := format["json_schema"].(map[string]any)
	assert.Equal(t, ai.TagTool, schema["name"])
	assert.Equal(t, true, schema["strict"])
	answer := schema["schema"].(map[string]any)
	assert.Equal(t, "object", answer["type"])
	assert.Equal(t, false, answer["additionalProperties"], "strict schemas are closed")
	assert.Contains(t, answer["properties"], "tags")
	assert.ElementsMatch(t, []string{"model", "messages", "max_completion_tokens", "response_format"}, slices.Collect(maps.Keys(req.Body)), "nothing else is sent")
}

func TestAnalyze(t *testing.T) {
	fake := aitest.OpenAI(t, func(int, aitest.Request) aitest.Answer {
		return aitest.Answer{JSON: map[string]any{"findings": []any{
			map[string]any{"kind": "related", "text": "web-prod-01 answers 502", "confidence": 0.6},
		}}, Usage: ai.Usage{InputTokens: 3000, OutputTokens: 50}}
	})
	// Without the trailing slash, as OPENAI_BASE_URL is often written.
	p := openai.New(ai.Remote{APIKey: "k", Model: "gpt-4o-mini", BaseURL: strings.TrimSuffix(fake.URL, "/")}, 512, 10*time.Second)
	fs, usage, err := p.Analyze(context.Background(), ai.IncidentContext{Title: "db down", Severity: "critical"})
	require.NoError(t, err)
	assert.Equal(t, []ai.Finding{{Kind: "related", Text: "web-prod-01 answers 502", Confidence: 0.6}}, fs)
	assert.Equal(t, ai.Usage{InputTokens: 3000, OutputTokens: 50}, usage)
	req := fake.Requests()[0]
	assert.Equal(t, "/v1/chat/completions", req.Path)
	assert.Equal(t, ai.FindingsTool, req.Body["response_format"].(map[string]any)["json_schema"].(map[string]any)["name"])
}

func TestUnusableAnswerStillReportsUsage(t *testing.T) {
	fake := aitest.OpenAI(t, func(int, aitest.Request) aitest.Answer {
		return aitest.Answer{Text: "a database, probably", Usage: ai.Usage{InputTokens: 700, OutputTokens: 5}}
	})
	p := openai.New(ai.Remote{APIKey: "k", Model: "gpt-4.1-mini", BaseURL: fake.URL}, 512, 10*time.Second)
	_, usage, err := p.Tag(context.Background(), host)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unreadable tagging answer")
	assert.Equal(t, ai.Usage{InputTokens: 700, OutputTokens: 5}, usage)
}

// An API error names the status and the API's message and type, never the key, and is not
// retried when it cannot succeed.
func TestAPIError(t *testing.T) {
	fake := aitest.OpenAI(t, func(int, aitest.Request) aitest.Answer { return aitest.Answer{Status: http.StatusBadRequest} })
	p := openai.New(ai.Remote{APIKey: "sk-openai-secret", Model: "gpt-4.1-mini", BaseURL: fake.URL}, 512, 10*time.Second)
	_, usage, err := p.Tag(context.Background(), host)
	require.Error(t, err)
	assert.Equal(t, "openai: POST "+fake.URL+"chat/completions: 400 Bad Request: "+aitest.ErrorMessage+" (server_error)", err.Error())
	assert.NotContains(t, err.Error(), "sk-openai-secret")
	assert.Equal(t, ai.Usage{}, usage)
	assert.Equal(t, 1, fake.Calls(), "a 400 is not retried")
}

// A server error is tried again after the wait OpenAI's retry-after-ms header asks for.
func TestServerErrorIsRetried(t *testing.T) {
	fake := aitest.OpenAI(t, func(n int, _ aitest.Request) aitest.Answer {
		if n == 1 {
			return aitest.Answer{Status: http.StatusInternalServerError, Header: http.Header{"Retry-After-Ms": {"1"}}}
		}
		return aitest.Answer{JSON: map[string]any{"tags": []any{}}, Usage: ai.Usage{InputTokens: 10, OutputTokens: 2}}
	})
	p := openai.New(ai.Remote{APIKey: "k", Model: "gpt-4.1-mini", BaseURL: fake.URL}, 512, 10*time.Second)
	start := time.Now()
	_, usage, err := p.Tag(context.Background(), host)
	require.NoError(t, err)
	assert.Equal(t, ai.Usage{InputTokens: 10, OutputTokens: 2}, usage)
	assert.Equal(t, 2, fake.Calls())
	assert.Less(t, time.Since(start), 300*time.Millisecond, "retry-after-ms replaces the backoff")
}
