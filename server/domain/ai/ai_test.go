package ai_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/server/domain/ai"
)

func TestCanonical(t *testing.T) {
	assert.Equal(t, ai.Anthropic, ai.Canonical("claude"))
	assert.Equal(t, ai.Anthropic, ai.Canonical(" Claude "))
	assert.Equal(t, ai.OpenAI, ai.Canonical("OpenAI"))
	assert.Equal(t, "", ai.Canonical(""))
}

func TestPricesLongestPrefix(t *testing.T) {
	p := ai.DefaultPrices
	mini, ok := p.Lookup("gpt-4o-mini-2024-07-18")
	require.True(t, ok)
	assert.Equal(t, ai.Price{Input: 0.15, Output: 0.6}, mini, "gpt-4o-mini, not gpt-4o")
	sonnet, ok := p.Lookup("claude-sonnet-4-5-20250929")
	require.True(t, ok)
	assert.Equal(t, ai.Price{Input: 3, Output: 15}, sonnet)
	_, ok = p.Lookup("llama-3")
	assert.False(t, ok)

	// 1,200 input and 300 output tokens of Sonnet: 1200×3/1e6 + 300×15/1e6.
	assert.InDelta(t, 0.0081, p.Cost("claude-sonnet-4-5", ai.Usage{InputTokens: 1200, OutputTokens: 300}), 1e-12)
	assert.Zero(t, p.Cost(ai.LocalModel, ai.Usage{InputTokens: 1e6, OutputTokens: 1e6}))
}

func TestParsePrices(t *testing.T) {
	p, err := ai.ParsePrices(ai.DefaultPrices, "my-model=1/2, gpt-4o=3/4")
	require.NoError(t, err)
	assert.Equal(t, ai.Price{Input: 1, Output: 2}, p["my-model"])
	assert.Equal(t, ai.Price{Input: 3, Output: 4}, p["gpt-4o"])
	assert.Equal(t, ai.Price{Input: 2.5, Output: 10}, ai.DefaultPrices["gpt-4o"], "base unchanged")
	for _, bad := range []string{"nope", "m=1", "m=a/b", "m=-1/2", "=1/2"} {
		_, err := ai.ParsePrices(nil, bad)
		assert.Error(t, err, bad)
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Setenv(ai.EnvDefaultProvider, "claude")
	t.Setenv(ai.EnvAnthropicAPIKey, "sk-test")
	t.Setenv(ai.EnvAnthropicModel, "claude-haiku-4-5")
	t.Setenv(ai.EnvOpenAIAPIKey, "")
	t.Setenv(ai.EnvPrices, "")
	t.Setenv(ai.EnvAnalysisInterval, "30s")
	c, err := ai.ConfigFromEnv()
	require.NoError(t, err)
	assert.Equal(t, ai.Anthropic, c.DefaultProvider)
	assert.Equal(t, "claude-haiku-4-5", c.Anthropic.Model)
	assert.Equal(t, ai.DefaultOpenAIModel, c.OpenAI.Model)
	assert.Equal(t, 30*time.Second, c.AnalysisInterval)

	t.Setenv(ai.EnvAnthropicModel, "claude-unheard-of")
	_, err = ai.ConfigFromEnv()
	require.Error(t, err, "a model without a price cannot count against a budget")
	assert.Contains(t, err.Error(), ai.EnvPrices)
	t.Setenv(ai.EnvPrices, "claude-unheard-of=1/5")
	_, err = ai.ConfigFromEnv()
	require.NoError(t, err)

	t.Setenv(ai.EnvDefaultProvider, "gemini")
	_, err = ai.ConfigFromEnv()
	require.Error(t, err)
	assert.Contains(t, err.Error(), ai.EnvDefaultProvider)
}

func TestZeroConfigIsLocal(t *testing.T) {
	c := ai.Config{}.WithDefaults()
	assert.Equal(t, ai.Local, c.DefaultProvider)
	assert.Equal(t, time.Minute, c.AnalysisInterval)
	require.NoError(t, c.Validate())
}

func TestCleanTags(t *testing.T) {
	got := ai.CleanTags([]ai.Tag{
		{Key: "Role", Value: "Web Server", Confidence: 0.8},
		{Key: "role", Value: "database", Confidence: 0.6},    // less sure than web-server
		{Key: "os", Value: "Linux", Confidence: 1.7},         // clamped
		{Key: "environment", Value: "prod", Confidence: 0.3}, // too unsure
		{Key: "owner", Value: "alice", Confidence: 0.99},     // not a tag AI sets
		{Key: "vendor", Value: "  !!  ", Confidence: 0.9},    // nothing left of the value
		{Key: "vendor", Value: strings.Repeat("x", 100), Confidence: 0.9},
	})
	require.Len(t, got, 3)
	assert.Equal(t, ai.Tag{Key: "role", Value: "web-server", Confidence: 0.8}, got[0])
	assert.Equal(t, ai.Tag{Key: "os", Value: "linux", Confidence: 1}, got[1])
	assert.Equal(t, "vendor", got[2].Key)
	assert.Len(t, got[2].Value, 64)
}

func TestCleanFindings(t *testing.T) {
	got := ai.CleanFindings([]ai.Finding{
		{Kind: ai.FindingCause, Text: "  the  disk\nis full ", Confidence: 0.9},
		{Kind: ai.FindingCause, Text: "the disk is full", Confidence: 0.9}, // repeat
		{Kind: "rumour", Text: "aliens"},
		{Kind: ai.FindingNextStep, Text: ""},
		{Kind: ai.FindingNextStep, Text: strings.Repeat("é", 2000)},
	})
	require.Len(t, got, 2)
	assert.Equal(t, "the disk is full", got[0].Text)
	assert.Equal(t, "Probable cause (confidence 0.90): the disk is full", got[0].Note())
	assert.Len(t, []rune(got[1].Text), 1000)
}
