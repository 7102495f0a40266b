// Package ai is what SecuMon asks of an AI provider and what it gives one: tags for a host from
// what SecuMon knows about it, and findings about an incident from its context. Providers live
// in subpackages (local, the default, works offline; anthropic and openai call their APIs over
// plain HTTP, see internal/httpjson); providers builds the configured set. Every call reports its token usage,
// which Prices turns into US dollars.
package ai

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Canonical provider names.
const (
	Local     = "local"
	Anthropic = "anthropic"
	OpenAI    = "openai"
)

// Canonical returns the canonical name of a provider name: "claude" is an alias of
// "anthropic", names are case-insensitive, and "" stays "" (the default provider).
func Canonical(name string) string {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "claude" {
		return Anthropic
	}
	return n
}

// Provider is one AI backend. Both methods report the tokens they used even when they fail
// after the provider answered (an unusable answer still costs money).
type Provider interface {
	// Name is the canonical provider name.
	Name() string
	// Model is the model the provider calls; it prices the calls (see Prices).
	Model() string
	// Tag suggests tags (TagKeys) for a host.
	Tag(ctx context.Context, h HostFacts) ([]Tag, Usage, error)
	// Analyze suggests findings about an incident.
	Analyze(ctx context.Context, ic IncidentContext) ([]Finding, Usage, error)
}

// Usage is the tokens one call consumed.
type Usage struct {
	InputTokens  int64 `json:"input_tokens"`
	OutputTokens int64 `json:"output_tokens"`
}

// Tag is one suggested host tag, without the "ai:" prefix SecuMon stores it under.
type Tag struct {
	Key        string  `json:"key"`
	Value      string  `json:"value"`
	Confidence float64 `json:"confidence"`
}

// Tag keys a provider may suggest; anything else is dropped.
const (
	TagRole        = "role"
	TagOS          = "os"
	TagEnvironment = "environment"
	TagVendor      = "vendor"
)

// TagKeys are the keys of TagRole… in a stable order.
var TagKeys = []string{TagRole, TagOS, TagEnvironment, TagVendor}

// HostFacts is what SecuMon knows about a host. It holds no secrets: check configurations are
// reduced to their type, port and target (see the tagging package), because remote providers
// receive these facts as they are.
type HostFacts struct {
	Name        string            `json:"name"`
	Hostname    string            `json:"hostname"`
	HostType    string            `json:"host_type"`
	Description string            `json:"description,omitempty"`
	UserTags    map[string]string `json:"user_tags,omitempty"`
	Checks      []CheckFacts      `json:"checks,omitempty"`
}

// CheckFacts is one check of a host with its latest result.
type CheckFacts struct {
	Name   string `json:"name"`
	Type   string `json:"type"` // a check type of probes.Types()
	Port   int    `json:"port,omitempty"`
	Target string `json:"target,omitempty"` // the URL without credentials or query, the DNS name…
	// Status of the latest result, a probes.Status name (OK, WARNING, …); empty when it never ran.
	Status   string     `json:"status,omitempty"`
	Since    *time.Time `json:"since,omitempty"` // time of the latest result
	Output   string     `json:"output,omitempty"`
	Error    string     `json:"error,omitempty"`
	SysDescr string     `json:"sys_descr,omitempty"` // SNMP sysDescr
	SysName  string     `json:"sys_name,omitempty"`  // SNMP sysName
}

// IncidentContext is what an incident analysis step knows.
type IncidentContext struct {
	Title       string     `json:"title"`
	Description string     `json:"description,omitempty"`
	Severity    string     `json:"severity"`
	Status      string     `json:"status"`
	OpenedAt    time.Time  `json:"opened_at"`
	Host        *HostFacts `json:"host,omitempty"`
	// Check is the name of the check that opened the incident, if any (one of Host.Checks).
	Check string `json:"check,omitempty"`
	// FailingChecks are the workspace's checks that are not OK, the incident's host first.
	FailingChecks []FailingCheck `json:"failing_checks,omitempty"`
	Storm         *Storm         `json:"storm,omitempty"`
	// Timeline is the incident's recent events, oldest first.
	Timeline []TimelineEntry `json:"timeline,omitempty"`
	// PreviousFindings were posted earlier in this session: a provider adds only new insight.
	PreviousFindings []string `json:"previous_findings,omitempty"`
}

// FailingCheck is a check whose latest result is not OK.
type FailingCheck struct {
	Host   string    `json:"host"`
	Name   string    `json:"name"`
	Type   string    `json:"type"`
	Status string    `json:"status"`
	Since  time.Time `json:"since"`
	Output string    `json:"output,omitempty"`
	Error  string    `json:"error,omitempty"`
}

// Storm is an alert storm: many checks failing across hosts at once.
type Storm struct {
	Active         bool      `json:"active"`
	StartedAt      time.Time `json:"started_at"`
	TotalAlerts    int       `json:"total_alerts"`
	AffectedHosts  int       `json:"affected_hosts"`
	AffectedChecks int       `json:"affected_checks"`
	// RootCauseType is the storm detector's guess: network, dns, service, worker or unknown.
	RootCauseType string  `json:"root_cause_type"`
	RootCauseHost string  `json:"root_cause_host,omitempty"`
	Confidence    float64 `json:"confidence"`
	// IncludesIncident: the incident is one of the storm's.
	IncludesIncident bool `json:"includes_incident"`
}

// TimelineEntry is one event of the incident's timeline.
type TimelineEntry struct {
	Time   time.Time `json:"time"`
	Action string    `json:"action"`
	Actor  string    `json:"actor,omitempty"`
	Note   string    `json:"note,omitempty"`
}

// Finding kinds.
const (
	FindingCause    = "probable_cause"
	FindingRelated  = "related"
	FindingNextStep = "next_step"
)

// Finding is one conclusion of an analysis step, posted to the incident's timeline.
type Finding struct {
	Kind       string  `json:"kind"`
	Text       string  `json:"text"`
	Confidence float64 `json:"confidence"`
}

// Note renders the finding as a timeline note.
func (f Finding) Note() string {
	switch f.Kind {
	case FindingCause:
		return fmt.Sprintf("Probable cause (confidence %.2f): %s", f.Confidence, f.Text)
	case FindingRelated:
		return "Related: " + f.Text
	case FindingNextStep:
		return "Suggested next step: " + f.Text
	}
	return f.Text
}
