package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"

	"github.com/secuaas/secumon/gen/db"
)

// Opsgenie regions, the target of an Opsgenie delivery.
const (
	OpsgenieUS = "us"
	OpsgenieEU = "eu"
)

// OpsgenieBase is the Alert API base of a region, unless Config.OpsgenieURL replaces it.
func (c *Config) OpsgenieBase(region string) string {
	switch {
	case c.OpsgenieURL != "":
		return c.OpsgenieURL
	case region == OpsgenieEU:
		return "https://api.eu.opsgenie.com"
	default:
		return "https://api.opsgenie.com"
	}
}

// OpsgeniePriority maps an incident severity to an Opsgenie priority, the default of a
// channel without a fixed priority.
func OpsgeniePriority(incidentSeverity string) string {
	switch incidentSeverity {
	case "critical":
		return "P1"
	case "major":
		return "P2"
	case "minor":
		return "P3"
	case "warning":
		return "P4"
	default:
		return "P5"
	}
}

// opsgenieAlert is the body of the Alert API's "create alert".
type opsgenieAlert struct {
	Message     string            `json:"message"` // at most 130 characters
	Alias       string            `json:"alias,omitempty"`
	Description string            `json:"description,omitempty"` // at most 15,000 characters
	Priority    string            `json:"priority"`
	Source      string            `json:"source"`
	Tags        []string          `json:"tags,omitempty"`
	Details     map[string]string `json:"details,omitempty"`
}

// opsgenieAction is the body of "acknowledge alert" and "close alert".
type opsgenieAction struct {
	Source string `json:"source"`
	Note   string `json:"note,omitempty"`
}

// sendOpsgenie creates an alert whose alias is the incident id, or acknowledges or closes
// the alert of that alias. Opsgenie processes requests asynchronously and answers 202.
func sendOpsgenie(ctx context.Context, cfg *Config, d *db.NotificationDelivery) outcome {
	if d.Secret == nil || *d.Secret == "" {
		return outcome{Err: errors.New("no API key"), Permanent: true}
	}
	ev := readIncidentEvent(d.Payload)
	var opts Options
	_ = json.Unmarshal(d.Options, &opts)
	base := cfg.OpsgenieBase(d.Target) + "/v2/alerts"
	var target string
	var v any
	switch ev.Event {
	case EventAcknowledged, EventResolved:
		if ev.Incident.ID == "" {
			return outcome{Err: errors.New("no incident to acknowledge or close"), Permanent: true}
		}
		action := "close"
		if ev.Event == EventAcknowledged {
			action = "acknowledge"
		}
		target = base + "/" + url.PathEscape(ev.Incident.ID) + "/" + action + "?identifierType=alias"
		v = opsgenieAction{Source: "SecuMon", Note: truncate(ev.Note, 25000)}
	default:
		priority := opts.Severity
		if priority == "" {
			priority = OpsgeniePriority(ev.Incident.Severity)
		}
		details := map[string]string{"incident_id": ev.Incident.ID, "severity": ev.Incident.Severity, "status": ev.Incident.Status}
		if ev.Policy.Name != "" {
			details["policy"] = ev.Policy.Name
		}
		if ev.Incident.HostID != nil {
			details["host_id"] = *ev.Incident.HostID
		}
		if ev.Incident.CheckID != nil {
			details["check_id"] = *ev.Incident.CheckID
		}
		target = base
		v = opsgenieAlert{
			Message: truncate(d.Subject, 130), Alias: ev.Incident.ID, Description: truncate(d.Body, 15000),
			Priority: priority, Source: "SecuMon", Tags: opsgenieTags(ev),
			Details: details,
		}
	}
	body, err := json.Marshal(v)
	if err != nil {
		return outcome{Err: err, Permanent: true}
	}
	h := http.Header{"Content-Type": {"application/json"}}
	h.Set("Authorization", "GenieKey "+*d.Secret)
	out, _ := post(ctx, cfg, d, target, body, h)
	return out
}

// opsgenieTags are "secumon", the severity and the incident's tags as key:value, sorted.
func opsgenieTags(ev incidentEvent) []string {
	tags := []string{"secumon", ev.Incident.Severity}
	keys := slices.Sorted(maps.Keys(ev.Incident.Tags))
	for _, k := range keys {
		tags = append(tags, truncate(fmt.Sprintf("%s:%v", k, ev.Incident.Tags[k]), 50))
	}
	return tags
}
