package ai

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// Environment variables read by ConfigFromEnv.
const (
	EnvDefaultProvider  = "SECUMON_AI_DEFAULT_PROVIDER"
	EnvAnthropicAPIKey  = "SECUMON_AI_ANTHROPIC_API_KEY"
	EnvAnthropicModel   = "SECUMON_AI_ANTHROPIC_MODEL"
	EnvAnthropicBaseURL = "SECUMON_AI_ANTHROPIC_BASE_URL"
	EnvOpenAIAPIKey     = "SECUMON_AI_OPENAI_API_KEY"
	EnvOpenAIModel      = "SECUMON_AI_OPENAI_MODEL"
	EnvOpenAIBaseURL    = "SECUMON_AI_OPENAI_BASE_URL"
	// EnvPrices adds to or overrides DefaultPrices: "model=input/output,…" in USD per million tokens.
	EnvPrices = "SECUMON_AI_PRICES"
	// EnvAnalysisInterval is the pause between two analysis steps of an incident (e.g. "2m").
	EnvAnalysisInterval = "SECUMON_AI_ANALYSIS_INTERVAL"
)

// Default models of the remote providers.
const (
	DefaultAnthropicModel = "claude-sonnet-4-5"
	DefaultOpenAIModel    = "gpt-4.1-mini"
)

// Config is the AI setup. The zero value is usable: the local provider only, default prices,
// one analysis step a minute.
type Config struct {
	// DefaultProvider answers when a request names none (host tagging); empty means local.
	DefaultProvider string
	Anthropic       Remote
	OpenAI          Remote
	// Prices of the models; nil means DefaultPrices.
	Prices Prices
	// AnalysisInterval is the pause between two analysis steps of an incident (default 1 min).
	AnalysisInterval time.Duration
	// Timeout bounds one attempt of a provider call (default 1 min); transient failures are
	// tried twice more (see internal/httpjson).
	Timeout time.Duration
	// MaxOutputTokens caps one answer of a remote provider (default 2048), which also caps
	// what one call can cost.
	MaxOutputTokens int64
}

// Remote is a provider reached over the network. Without an APIKey it is not available.
type Remote struct {
	APIKey string
	// Model defaults to DefaultAnthropicModel or DefaultOpenAIModel.
	Model string
	// BaseURL defaults to the provider's public API; tests and proxies point it elsewhere.
	BaseURL string
}

// WithDefaults fills in what is unset.
func (c Config) WithDefaults() Config {
	c.DefaultProvider = Canonical(c.DefaultProvider)
	if c.DefaultProvider == "" {
		c.DefaultProvider = Local
	}
	if c.Anthropic.Model == "" {
		c.Anthropic.Model = DefaultAnthropicModel
	}
	if c.OpenAI.Model == "" {
		c.OpenAI.Model = DefaultOpenAIModel
	}
	if c.Prices == nil {
		c.Prices = DefaultPrices
	}
	if c.AnalysisInterval <= 0 {
		c.AnalysisInterval = time.Minute
	}
	if c.Timeout <= 0 {
		c.Timeout = time.Minute
	}
	if c.MaxOutputTokens <= 0 {
		c.MaxOutputTokens = 2048
	}
	return c
}

// Validate reports settings that cannot work: an unknown default provider, or a configured
// model without a price (its spend could not be counted against a budget).
func (c Config) Validate() error {
	c = c.WithDefaults()
	var errs []error
	switch c.DefaultProvider {
	case Local, Anthropic, OpenAI:
	default:
		errs = append(errs, fmt.Errorf("%s=%q: want local, anthropic (or claude) or openai", EnvDefaultProvider, c.DefaultProvider))
	}
	for _, r := range []struct {
		remote  Remote
		setting string
	}{{c.Anthropic, EnvAnthropicModel}, {c.OpenAI, EnvOpenAIModel}} {
		if r.remote.APIKey == "" {
			continue
		}
		if _, ok := c.Prices.Lookup(r.remote.Model); !ok {
			errs = append(errs, fmt.Errorf("%s=%q has no price: add it to %s (model=input/output USD per million tokens)", r.setting, r.remote.Model, EnvPrices))
		}
	}
	return errors.Join(errs...)
}

// ConfigFromEnv reads the SECUMON_AI_* variables.
func ConfigFromEnv() (Config, error) {
	get := func(k string) string { return strings.TrimSpace(os.Getenv(k)) }
	c := Config{
		DefaultProvider: get(EnvDefaultProvider),
		Anthropic:       Remote{APIKey: get(EnvAnthropicAPIKey), Model: get(EnvAnthropicModel), BaseURL: get(EnvAnthropicBaseURL)},
		OpenAI:          Remote{APIKey: get(EnvOpenAIAPIKey), Model: get(EnvOpenAIModel), BaseURL: get(EnvOpenAIBaseURL)},
	}
	prices, err := ParsePrices(DefaultPrices, get(EnvPrices))
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", EnvPrices, err)
	}
	c.Prices = prices
	if v := get(EnvAnalysisInterval); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			return Config{}, fmt.Errorf("%s=%q: want a duration of at least 1s", EnvAnalysisInterval, v)
		}
		c.AnalysisInterval = d
	}
	c = c.WithDefaults()
	return c, c.Validate()
}

// UnavailableError is a request for a provider that is not configured. The API answers 503
// naming Setting.
type UnavailableError struct {
	Provider string
	Setting  string
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("AI provider %s is not configured: set %s", e.Provider, e.Setting)
}
