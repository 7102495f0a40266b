package ai

import (
	"encoding/json"
	"fmt"
	"slices"
)

// What remote providers are asked, shared by every remote provider so that they answer alike. Each
// provider asks for structured output matching TagSchema or FindingsSchema (a forced tool
// call for Anthropic, a strict JSON schema response format for OpenAI).

// TagInstructions is the system prompt of host tagging.
const TagInstructions = `You classify hosts for SecuMon, an infrastructure monitoring service.
From the facts about one host (its name, address, type, user tags, checks with ports and latest
results, SNMP sysDescr), suggest tags:
- role: what the host does (web-server, database, cache, mail-server, dns-server, load-balancer,
  firewall, switch, router, access-point, hypervisor, storage, app-server, directory, monitoring,
  printer, ups, …)
- os: its operating system (linux, windows, freebsd, cisco-ios, cisco-ios-xe, junos, routeros, …)
- environment: production, staging, development, test or lab
- vendor: the hardware or software vendor of a network device or appliance (cisco, juniper, …)
Give each tag a confidence between 0 and 1, and leave out tags the facts do not support.
Values are short lowercase slugs.`

// TagTool names the structured answer of host tagging.
const TagTool = "record_host_tags"

// TagSchema is the JSON schema of a tagging answer: {"tags":[{"key","value","confidence"}]}.
func TagSchema() map[string]any {
	return object(map[string]any{
		"tags": map[string]any{
			"type": "array",
			"items": object(map[string]any{
				"key":        map[string]any{"type": "string", "enum": TagKeys},
				"value":      map[string]any{"type": "string"},
				"confidence": map[string]any{"type": "number"},
			}),
		},
	})
}

// AnalyzeInstructions is the system prompt of an incident analysis step.
const AnalyzeInstructions = `You assist the on-call engineer of a critical incident in SecuMon, an
infrastructure monitoring service. From the incident, its host and checks, the other failing
checks, any alert storm and the timeline, give findings:
- probable_cause: the most likely cause, with a confidence between 0 and 1
- related: checks, hosts or storms that are probably part of the same problem
- next_step: concrete actions to confirm the cause or restore service
Be brief and specific (one or two sentences each). Do not repeat previous_findings: give only
new insight, or no findings when there is nothing new.`

// FindingsTool names the structured answer of an analysis step.
const FindingsTool = "record_findings"

// FindingsSchema is the JSON schema of an analysis answer: {"findings":[{"kind","text","confidence"}]}.
func FindingsSchema() map[string]any {
	return object(map[string]any{
		"findings": map[string]any{
			"type": "array",
			"items": object(map[string]any{
				"kind":       map[string]any{"type": "string", "enum": []string{FindingCause, FindingRelated, FindingNextStep}},
				"text":       map[string]any{"type": "string"},
				"confidence": map[string]any{"type": "number"},
			}),
		},
	})
}

// object is a closed JSON schema object whose properties are all required, the form strict
// structured outputs accept.
func object(props map[string]any) map[string]any {
	required := make([]string, 0, len(props))
	for k := range props {
		required = append(required, k)
	}
	slices.Sort(required)
	return map[string]any{"type": "object", "properties": props, "required": required, "additionalProperties": false}
}

// FactsMessage is the user message carrying v (HostFacts or IncidentContext) as JSON.
func FactsMessage(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err) // plain structs of strings, numbers and times
	}
	return string(b)
}

// DecodeTags reads a tagging answer.
func DecodeTags(raw []byte) ([]Tag, error) {
	var ans struct {
		Tags []Tag `json:"tags"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return nil, fmt.Errorf("unreadable tagging answer: %w", err)
	}
	return ans.Tags, nil
}

// DecodeFindings reads an analysis answer.
func DecodeFindings(raw []byte) ([]Finding, error) {
	var ans struct {
		Findings []Finding `json:"findings"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return nil, fmt.Errorf("unreadable analysis answer: %w", err)
	}
	return ans.Findings, nil
}
