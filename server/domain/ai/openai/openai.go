// Package openai is the AI provider backed by OpenAI's Chat Completions API
// (POST /chat/completions), called over plain HTTP (see ai/internal/httpjson). Answers are
// structured by a strict JSON schema response format (ai.TagSchema, ai.FindingsSchema).
package openai

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/secuaas/secumon/server/domain/ai"
	"github.com/secuaas/secumon/server/domain/ai/internal/httpjson"
)

// DefaultBaseURL is OpenAI's public API.
const DefaultBaseURL = "https://api.openai.com/v1/"

// Provider calls one OpenAI model.
type Provider struct {
	client    *httpjson.Client
	endpoint  string
	model     string
	maxTokens int64
}

var _ ai.Provider = (*Provider)(nil)

// New returns a provider for r (its APIKey must be set; an empty BaseURL means OpenAI's public
// API). Only r configures the client: no OPENAI_* variable of the environment is read (not
// OPENAI_API_KEY, OPENAI_BASE_URL nor OPENAI_ORG_ID), so SECUMON_AI_* is the one place to
// look. timeout bounds one attempt of a call, which is tried at most 1+httpjson.MaxRetries times.
func New(r ai.Remote, maxTokens int64, timeout time.Duration) *Provider {
	base := r.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	h := http.Header{}
	h.Set("Authorization", "Bearer "+r.APIKey)
	return &Provider{
		client: &httpjson.Client{Provider: ai.OpenAI, Header: h, Secret: r.APIKey, Timeout: timeout},
		// The base URL includes the version, as OpenAI's does: ".../v1" calls .../v1/chat/completions.
		endpoint:  strings.TrimRight(base, "/") + "/chat/completions",
		model:     r.Model,
		maxTokens: maxTokens,
	}
}

// Name is "openai".
func (*Provider) Name() string { return ai.OpenAI }

// Model is the configured model.
func (p *Provider) Model() string { return p.model }

// Tag asks the model for host tags.
func (p *Provider) Tag(ctx context.Context, h ai.HostFacts) ([]ai.Tag, ai.Usage, error) {
	raw, u, err := p.ask(ctx, ai.TagInstructions, ai.FactsMessage(h), ai.TagTool, ai.TagSchema())
	if err != nil {
		return nil, u, err
	}
	tags, err := ai.DecodeTags(raw)
	return tags, u, err
}

// Analyze asks the model for findings about the incident.
func (p *Provider) Analyze(ctx context.Context, ic ai.IncidentContext) ([]ai.Finding, ai.Usage, error) {
	raw, u, err := p.ask(ctx, ai.AnalyzeInstructions, ai.FactsMessage(ic), ai.FindingsTool, ai.FindingsSchema())
	if err != nil {
		return nil, u, err
	}
	fs, err := ai.DecodeFindings(raw)
	return fs, u, err
}

// The parts of the Chat Completions API this provider uses.
type (
	request struct {
		Model               string         `json:"model"`
		Messages            []message      `json:"messages"`
		MaxCompletionTokens int64          `json:"max_completion_tokens,omitempty"`
		ResponseFormat      responseFormat `json:"response_format"`
	}
	message struct {
		Role    string `json:"role"` // "system", "user"
		Content string `json:"content"`
	}
	// responseFormat {"type":"json_schema",…} makes the answer's content JSON of the schema.
	responseFormat struct {
		Type       string     `json:"type"`
		JSONSchema jsonSchema `json:"json_schema"`
	}
	jsonSchema struct {
		Name   string         `json:"name"`
		Strict bool           `json:"strict"`
		Schema map[string]any `json:"schema"`
	}

	response struct {
		Choices []struct {
			FinishReason string `json:"finish_reason"`
			Message      struct {
				Content string `json:"content"` // null when refused
				Refusal string `json:"refusal"`
			} `json:"message"`
		} `json:"choices"`
		Usage struct {
			PromptTokens     int64 `json:"prompt_tokens"`
			CompletionTokens int64 `json:"completion_tokens"`
		} `json:"usage"`
	}
)

// ask sends one chat completion and returns its JSON content.
func (p *Provider) ask(ctx context.Context, system, user, name string, schema map[string]any) ([]byte, ai.Usage, error) {
	req := request{
		Model:               p.model,
		Messages:            []message{{Role: "system", Content: system}, {Role: "user", Content: user}},
		MaxCompletionTokens: p.maxTokens,
		ResponseFormat:      responseFormat{Type: "json_schema", JSONSchema: jsonSchema{Name: name, Strict: true, Schema: schema}},
	}
	var resp response
	if err := p.client.Post(ctx, p.endpoint, req, &resp); err != nil {
		return nil, ai.Usage{}, err
	}
	u := ai.Usage{InputTokens: resp.Usage.PromptTokens, OutputTokens: resp.Usage.CompletionTokens}
	if len(resp.Choices) == 0 {
		return nil, u, errors.New("openai: the answer has no choices")
	}
	m := resp.Choices[0].Message
	if m.Refusal != "" {
		return nil, u, errors.New("openai: the model refused: " + m.Refusal)
	}
	if m.Content == "" {
		return nil, u, errors.New("openai: empty answer (finish reason " + resp.Choices[0].FinishReason + ")")
	}
	return []byte(m.Content), u, nil
}
