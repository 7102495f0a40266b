// Package openai is the AI provider backed by OpenAI's Chat Completions API, through the
// official Go SDK. Answers are structured by a strict JSON schema response format
// (ai.TagSchema, ai.FindingsSchema).
package openai

import (
	"context"
	"errors"
	"time"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/secuaas/secumon/server/domain/ai"
)

// DefaultBaseURL is OpenAI's public API.
const DefaultBaseURL = "https://api.openai.com/v1/"

// Provider calls one OpenAI model.
type Provider struct {
	client    sdk.Client
	model     string
	maxTokens int64
}

var _ ai.Provider = (*Provider)(nil)

// New returns a provider for r (its APIKey must be set; an empty BaseURL means OpenAI's public
// API). The key and base URL always come from r, never from OPENAI_API_KEY or OPENAI_BASE_URL.
// (The SDK offers no public way to ignore its other variables, such as OPENAI_ORG_ID.)
func New(r ai.Remote, maxTokens int64, timeout time.Duration) *Provider {
	base := r.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	client := sdk.NewClient(
		option.WithAPIKey(r.APIKey),
		option.WithBaseURL(base),
		option.WithRequestTimeout(timeout),
		option.WithMaxRetries(2),
	)
	return &Provider{client: client, model: r.Model, maxTokens: maxTokens}
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

// ask sends one chat completion and returns its JSON content.
func (p *Provider) ask(ctx context.Context, system, user, name string, schema map[string]any) ([]byte, ai.Usage, error) {
	resp, err := p.client.Chat.Completions.New(ctx, sdk.ChatCompletionNewParams{
		Model:               p.model,
		MaxCompletionTokens: sdk.Int(p.maxTokens),
		Messages:            []sdk.ChatCompletionMessageParamUnion{sdk.SystemMessage(system), sdk.UserMessage(user)},
		ResponseFormat: sdk.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &sdk.ResponseFormatJSONSchemaParam{
			JSONSchema: sdk.ResponseFormatJSONSchemaJSONSchemaParam{Name: name, Strict: sdk.Bool(true), Schema: schema},
		}},
	})
	if err != nil {
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
		return nil, u, errors.New("openai: empty answer (finish reason " + string(resp.Choices[0].FinishReason) + ")")
	}
	return []byte(m.Content), u, nil
}
