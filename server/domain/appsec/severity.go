package appsec

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Severity is a finding's severity, from critical to info.
type Severity string

// The severities, most severe first.
const (
	Critical Severity = "critical"
	High     Severity = "high"
	Medium   Severity = "medium"
	Low      Severity = "low"
	Info     Severity = "info"
)

// Severities lists every severity, most severe first.
var Severities = []Severity{Critical, High, Medium, Low, Info}

// Rank orders severities: 0 for critical … 4 for info (the database's severity_rank).
func (s Severity) Rank() int {
	for i, v := range Severities {
		if v == s {
			return i
		}
	}
	return len(Severities) - 1
}

// trivySeverity maps Trivy's severities; UNKNOWN (and anything unexpected) is info.
func trivySeverity(s string) Severity {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "CRITICAL":
		return Critical
	case "HIGH":
		return High
	case "MEDIUM":
		return Medium
	case "LOW":
		return Low
	default:
		return Info
	}
}

// scoreSeverity maps a CVSS-like security-severity score (GitHub code scanning's rule
// property) the way GitHub does: ≥ 9 critical, ≥ 7 high, ≥ 4 medium, else low.
func scoreSeverity(score float64) Severity {
	switch {
	case score >= 9:
		return Critical
	case score >= 7:
		return High
	case score >= 4:
		return Medium
	default:
		return Low
	}
}

// levelSeverity maps a SARIF level when no score is given: error high, warning medium, note
// low, none info. An absent level is SARIF's default, warning.
func levelSeverity(level string) Severity {
	switch level {
	case "error":
		return High
	case "note":
		return Low
	case "none":
		return Info
	default:
		return Medium
	}
}

// securitySeverity reads a "security-severity" property, which tools write as a string
// ("7.5") or, sometimes, as a number.
func securitySeverity(props map[string]json.RawMessage) (float64, bool) {
	raw, ok := props["security-severity"]
	if !ok {
		return 0, false
	}
	var n float64
	if err := json.Unmarshal(raw, &n); err == nil {
		return n, true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, false
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return n, err == nil
}
