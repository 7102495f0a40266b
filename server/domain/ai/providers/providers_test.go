package providers_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/server/domain/ai"
	"github.com/secuaas/secumon/server/domain/ai/providers"
)

func TestGet(t *testing.T) {
	set, err := providers.New(ai.Config{OpenAI: ai.Remote{APIKey: "sk-test", BaseURL: "http://127.0.0.1:9/v1/"}})
	require.NoError(t, err)

	p, err := set.Get("")
	require.NoError(t, err)
	assert.Equal(t, ai.Local, p.Name(), "local is the default")

	p, err = set.Get("openai")
	require.NoError(t, err)
	assert.Equal(t, ai.OpenAI, p.Name())
	assert.Equal(t, ai.DefaultOpenAIModel, p.Model())

	_, err = set.Get("claude")
	var ue *ai.UnavailableError
	require.True(t, errors.As(err, &ue), "%v", err)
	assert.Equal(t, ai.Anthropic, ue.Provider, "claude is anthropic")
	assert.Equal(t, "SECUMON_AI_ANTHROPIC_API_KEY", ue.Setting)

	_, err = set.Get("gemini")
	require.Error(t, err)
	assert.False(t, errors.As(err, &ue))
}

func TestDefaultProviderWithoutKey(t *testing.T) {
	set, err := providers.New(ai.Config{DefaultProvider: "openai"})
	require.NoError(t, err, "a missing key is answered per request, not at start")
	_, err = set.Get("")
	var ue *ai.UnavailableError
	require.True(t, errors.As(err, &ue))
	assert.Equal(t, "SECUMON_AI_OPENAI_API_KEY", ue.Setting)
}

func TestNewRefusesUnpricedModels(t *testing.T) {
	_, err := providers.New(ai.Config{Anthropic: ai.Remote{APIKey: "k", Model: "claude-next"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "SECUMON_AI_PRICES")
}
