package alerting

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/google/uuid"
)

// Conditions are an alert policy's filters (the contract's AlertConditions): all given ones
// must match; an absent one matches everything.
type Conditions struct {
	Severity   []string          `json:"severity,omitempty"`
	HostTags   map[string]string `json:"host_tags,omitempty"`
	HostIDs    []uuid.UUID       `json:"host_ids,omitempty"`
	CheckTypes []string          `json:"check_types,omitempty"`
}

// Channels are where a policy sends (the contract's AlertChannels).
type Channels struct {
	Email   []string    `json:"email,omitempty"`
	Webhook []Webhook   `json:"webhook,omitempty"`
	Slack   []string    `json:"slack,omitempty"`
	Oncall  []uuid.UUID `json:"oncall,omitempty"`
	// Teams and Discord are webhook URLs of those services; Telegram are bot chats.
	Teams    []string   `json:"teams,omitempty"`
	Discord  []string   `json:"discord,omitempty"`
	Telegram []Telegram `json:"telegram,omitempty"`

	PagerDuty []PagerDuty `json:"pagerduty,omitempty"`
	Opsgenie  []Opsgenie  `json:"opsgenie,omitempty"`
	Ntfy      []Ntfy      `json:"ntfy,omitempty"`
}

// Telegram is a Telegram channel: the chat BotToken's bot posts to.
type Telegram struct {
	BotToken string `json:"bot_token"`
	ChatID   string `json:"chat_id"`
}

// Webhook is a webhook channel; Secret signs the body (HMAC-SHA256). BodyTemplate, when
// set, renders the body (TemplateData) sent with ContentType; ExtraHeaders are sent as well.
type Webhook struct {
	URL          string            `json:"url"`
	Secret       string            `json:"secret,omitempty"`
	BodyTemplate string            `json:"body_template,omitempty"`
	ContentType  string            `json:"content_type,omitempty"`
	ExtraHeaders map[string]string `json:"extra_headers,omitempty"`
}

// PagerDuty is a PagerDuty Events API v2 channel; Severity, when set, replaces the one
// derived from the incident.
type PagerDuty struct {
	RoutingKey string `json:"routing_key"`
	Severity   string `json:"severity,omitempty"`
}

// Opsgenie is an Opsgenie Alert API channel; Region is us (default) or eu.
type Opsgenie struct {
	APIKey   string `json:"api_key"`
	Region   string `json:"region,omitempty"`
	Priority string `json:"priority,omitempty"`
}

// Ntfy is an ntfy topic; Priority 0 follows the incident's severity.
type Ntfy struct {
	URL      string   `json:"url"`
	Token    string   `json:"token,omitempty"`
	Priority int      `json:"priority,omitempty"`
	Tags     []string `json:"tags,omitempty"`
}

// Subject is what a policy's conditions are matched against.
type Subject struct {
	Severity  string
	HostID    *uuid.UUID
	HostTags  map[string]string
	CheckType string // "" for an incident without a check
	// HostName and CheckName name the incident's host and check in messages ("" if none).
	HostName, CheckName string
}

// Matches reports whether every given condition holds for s. A condition on hosts or check
// types does not match an incident that has no host or check.
func (c Conditions) Matches(s Subject) bool {
	if len(c.Severity) > 0 && !slices.Contains(c.Severity, s.Severity) {
		return false
	}
	if len(c.HostIDs) > 0 && (s.HostID == nil || !slices.Contains(c.HostIDs, *s.HostID)) {
		return false
	}
	for k, v := range c.HostTags {
		if got, ok := s.HostTags[k]; !ok || got != v {
			return false
		}
	}
	if len(c.CheckTypes) > 0 && !slices.Contains(c.CheckTypes, s.CheckType) {
		return false
	}
	return true
}

// ParsePolicy reads a stored policy's conditions and channels.
func ParsePolicy(conditions, channels []byte) (Conditions, Channels, error) {
	var cond Conditions
	var ch Channels
	if len(conditions) > 0 {
		if err := json.Unmarshal(conditions, &cond); err != nil {
			return cond, ch, fmt.Errorf("policy conditions: %w", err)
		}
	}
	if len(channels) > 0 {
		if err := json.Unmarshal(channels, &ch); err != nil {
			return cond, ch, fmt.Errorf("policy channels: %w", err)
		}
	}
	return cond, ch, nil
}
