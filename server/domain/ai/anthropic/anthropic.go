// Package anthropic is the AI provider backed by Anthropic's Messages API, through the
// official Go SDK. Answers are structured by a forced tool call whose input schema is the
// answer's (ai.TagSchema, ai.FindingsSchema).
package anthropic

import (
	"context"
	"errors"
	"time"

	sdk "github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"

	"github.com/secuaas/secumon/server/domain/ai"
)

// Provider calls one Anthropic model.
type Provider struct {
	client    sdk.Client
	model     string
	maxTokens int64
}

var _ ai.Provider = (*Provider)(nil)

// New returns a provider for r (its APIKey must be set; an empty BaseURL means Anthropic's
// public API). Only r configures the client: ANTHROPIC_* variables of the environment are
// ignored, so SECUMON_AI_* is the one place to look.
func New(r ai.Remote, maxTokens int64, timeout time.Duration) *Provider {
	opts := []option.RequestOption{
		option.WithoutEnvironmentDefaults(),
		option.WithAPIKey(r.APIKey),
		option.WithRequestTimeout(timeout),
		option.WithMaxRetries(2),
	}
	if r.BaseURL != "" {
		opts = append(opts, option.WithBaseURL(r.BaseURL))
	}
	return &Provider{client: sdk.NewClient(opts...), model: r.Model, maxTokens: maxTokens}
}

// Name is "anthropic".
func (*Provider) Name() string { return ai.Anthropic }

// Model is the configured model.
func (p *Provider) Model() string { return p.model }

// Tag asks the model for host tags.
func (p *Provider) Tag(ctx context.Context, h ai.HostFacts) ([]ai.Tag, ai.Usage, error) {
	raw, u, err := p.ask(ctx, ai.TagInstructions, ai.FactsMessage(h), ai.TagTool, "Record the tags of the host.", ai.TagSchema())
	if err != nil {
		return nil, u, err
	}
	tags, err := ai.DecodeTags(raw)
	return tags, u, err
}

// Analyze asks the model for findings about the incident.
func (p *Provider) Analyze(ctx context.Context, ic ai.IncidentContext) ([]ai.Finding, ai.Usage, error) {
	raw, u, err := p.ask(ctx, ai.AnalyzeInstructions, ai.FactsMessage(ic), ai.FindingsTool, "Record the findings about the incident.", ai.FindingsSchema())
	if err != nil {
		return nil, u, err
	}
	fs, err := ai.DecodeFindings(raw)
	return fs, u, err
}

// ask sends one message and returns the input of the forced tool call.
func (p *Provider) ask(ctx context.Context, system, user, tool, toolDescription string, schema map[string]any) ([]byte, ai.Usage, error) {
	msg, err := p.client.Messages.New(ctx, sdk.MessageNewParams{
		Model:     sdk.Model(p.model),
		MaxTokens: p.maxTokens,
		System:    []sdk.TextBlockParam{{Text: system}},
		Messages:  []sdk.MessageParam{sdk.NewUserMessage(sdk.NewTextBlock(user))},
		Tools: []sdk.ToolUnionParam{{OfTool: &sdk.ToolParam{
			Name:        tool,
			Description: sdk.String(toolDescription),
			InputSchema: sdk.ToolInputSchemaParam{
				Properties: schema["properties"],
				Required:   schema["required"].([]string),
			},
		}}},
		ToolChoice: sdk.ToolChoiceParamOfTool(tool),
	})
	if err != nil {
		return nil, ai.Usage{}, err
	}
	// Cache writes and reads are input tokens too; counting them at the input price
	// overstates cache reads slightly, which errs on the side of the budget.
	u := ai.Usage{
		InputTokens:  msg.Usage.InputTokens + msg.Usage.CacheCreationInputTokens + msg.Usage.CacheReadInputTokens,
		OutputTokens: msg.Usage.OutputTokens,
	}
	for _, block := range msg.Content {
		if block.Type == "tool_use" && block.Name == tool {
			return block.Input, u, nil
		}
	}
	return nil, u, errors.New("anthropic: the answer has no " + tool + " tool call (stop reason " + string(msg.StopReason) + ")")
}
