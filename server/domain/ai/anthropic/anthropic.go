// Package anthropic is the AI provider backed by Anthropic's Messages API
// (POST /v1/messages), called over plain HTTP (see ai/internal/httpjson). Answers are
// structured by a forced tool call whose input schema is the answer's (ai.TagSchema,
// ai.FindingsSchema).
package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/secuaas/secumon/server/domain/ai"
	"github.com/secuaas/secumon/server/domain/ai/internal/httpjson"
)

// DefaultBaseURL is Anthropic's public API.
const DefaultBaseURL = "https://api.anthropic.com"

// APIVersion is the version of the Messages API the requests and answers below follow, sent
// as the anthropic-version header every request must carry.
const APIVersion = "2023-06-01"

// Provider calls one Anthropic model.
type Provider struct {
	client    *httpjson.Client
	endpoint  string
	model     string
	maxTokens int64
}

var _ ai.Provider = (*Provider)(nil)

// New returns a provider for r (its APIKey must be set; an empty BaseURL means Anthropic's
// public API). Only r configures the client: no ANTHROPIC_* variable of the environment is
// read, so SECUMON_AI_* is the one place to look. timeout bounds one attempt of a call, which
// is tried at most 1+httpjson.MaxRetries times.
func New(r ai.Remote, maxTokens int64, timeout time.Duration) *Provider {
	base := r.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	h := http.Header{}
	h.Set("X-Api-Key", r.APIKey)
	h.Set("Anthropic-Version", APIVersion)
	return &Provider{
		client: &httpjson.Client{Provider: ai.Anthropic, Header: h, Secret: r.APIKey, Timeout: timeout},
		// The base URL is a prefix: "https://proxy/anthropic" calls https://proxy/anthropic/v1/messages.
		endpoint:  strings.TrimRight(base, "/") + "/v1/messages",
		model:     r.Model,
		maxTokens: maxTokens,
	}
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

// The parts of the Messages API this provider uses.
type (
	request struct {
		Model      string     `json:"model"`
		MaxTokens  int64      `json:"max_tokens"`
		System     []text     `json:"system,omitempty"`
		Messages   []message  `json:"messages"`
		Tools      []tool     `json:"tools,omitempty"`
		ToolChoice toolChoice `json:"tool_choice"`
	}
	text struct {
		Type string `json:"type"` // "text"
		Text string `json:"text"`
	}
	message struct {
		Role    string `json:"role"` // "user"
		Content []text `json:"content"`
	}
	tool struct {
		Name        string      `json:"name"`
		Description string      `json:"description,omitempty"`
		InputSchema inputSchema `json:"input_schema"`
	}
	inputSchema struct {
		Type       string `json:"type"` // "object"
		Properties any    `json:"properties"`
		Required   any    `json:"required,omitempty"`
	}
	// toolChoice {"type":"tool","name":…} forces the model to answer with that tool.
	toolChoice struct {
		Type string `json:"type"`
		Name string `json:"name"`
	}

	response struct {
		Content []struct {
			Type  string          `json:"type"` // "text", "tool_use"…
			Name  string          `json:"name"` // of a tool_use block
			Input json.RawMessage `json:"input"`
		} `json:"content"`
		StopReason string `json:"stop_reason"`
		Usage      struct {
			InputTokens              int64 `json:"input_tokens"`
			OutputTokens             int64 `json:"output_tokens"`
			CacheCreationInputTokens int64 `json:"cache_creation_input_tokens"`
			CacheReadInputTokens     int64 `json:"cache_read_input_tokens"`
		} `json:"usage"`
	}
)

// ask sends one message and returns the input of the forced tool call.
func (p *Provider) ask(ctx context.Context, system, user, toolName, toolDescription string, schema map[string]any) ([]byte, ai.Usage, error) {
	req := request{
		Model:     p.model,
		MaxTokens: p.maxTokens,
		System:    []text{{Type: "text", Text: system}},
		Messages:  []message{{Role: "user", Content: []text{{Type: "text", Text: user}}}},
		Tools: []tool{{
			Name:        toolName,
			Description: toolDescription,
			InputSchema: inputSchema{Type: "object", Properties: schema["properties"], Required: schema["required"]},
		}},
		ToolChoice: toolChoice{Type: "tool", Name: toolName},
	}
	var msg response
	if err := p.client.Post(ctx, p.endpoint, req, &msg); err != nil {
		return nil, ai.Usage{}, err
	}
	// Cache writes and reads are input tokens too; counting them at the input price
	// overstates cache reads slightly, which errs on the side of the budget.
	u := ai.Usage{
		InputTokens:  msg.Usage.InputTokens + msg.Usage.CacheCreationInputTokens + msg.Usage.CacheReadInputTokens,
		OutputTokens: msg.Usage.OutputTokens,
	}
	for _, block := range msg.Content {
		if block.Type == "tool_use" && block.Name == toolName {
			return block.Input, u, nil
		}
	}
	return nil, u, errors.New("anthropic: the answer has no " + toolName + " tool call (stop reason " + msg.StopReason + ")")
}
