// Package providers builds the AI providers a configuration makes available and hands them
// out by name: local always, anthropic and openai when their API key is set.
package providers

import (
	"fmt"

	"github.com/secuaas/secumon/server/domain/ai"
	"github.com/secuaas/secumon/server/domain/ai/anthropic"
	"github.com/secuaas/secumon/server/domain/ai/local"
	"github.com/secuaas/secumon/server/domain/ai/openai"
)

// Set is the configured providers. It is safe for concurrent use.
type Set struct {
	cfg    ai.Config
	byName map[string]ai.Provider
}

// New builds the providers of cfg (defaults filled in). It fails when cfg cannot work (see
// ai.Config.Validate).
func New(cfg ai.Config) (*Set, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("ai: %w", err)
	}
	s := &Set{cfg: cfg, byName: map[string]ai.Provider{ai.Local: local.New()}}
	if cfg.Anthropic.APIKey != "" {
		s.byName[ai.Anthropic] = anthropic.New(cfg.Anthropic, cfg.MaxOutputTokens, cfg.Timeout)
	}
	if cfg.OpenAI.APIKey != "" {
		s.byName[ai.OpenAI] = openai.New(cfg.OpenAI, cfg.MaxOutputTokens, cfg.Timeout)
	}
	return s, nil
}

// Config is the configuration the set was built from, with defaults.
func (s *Set) Config() ai.Config { return s.cfg }

// Get returns the provider called name ("" for the default; "claude" is "anthropic"). A known
// provider without its API key is an *ai.UnavailableError naming the setting to set.
func (s *Set) Get(name string) (ai.Provider, error) {
	n := ai.Canonical(name)
	if n == "" {
		n = s.cfg.DefaultProvider
	}
	if p, ok := s.byName[n]; ok {
		return p, nil
	}
	switch n {
	case ai.Anthropic:
		return nil, &ai.UnavailableError{Provider: n, Setting: ai.EnvAnthropicAPIKey}
	case ai.OpenAI:
		return nil, &ai.UnavailableError{Provider: n, Setting: ai.EnvOpenAIAPIKey}
	}
	return nil, fmt.Errorf("ai: unknown provider %q", name)
}

// Cost is what usage of model costs in US dollars, from the configured prices.
func (s *Set) Cost(model string, u ai.Usage) float64 { return s.cfg.Prices.Cost(model, u) }
