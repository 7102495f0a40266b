package notify

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/secuaas/secumon/gen/db"
)

// DefaultPagerDutyURL is the base of PagerDuty's Events API v2.
const DefaultPagerDutyURL = "https://events.pagerduty.com"

// PagerDutySeverity maps an incident severity to a PagerDuty one (critical, error, warning,
// info), the default of a channel without a fixed severity.
func PagerDutySeverity(incidentSeverity string) string {
	switch incidentSeverity {
	case "critical":
		return "critical"
	case "major":
		return "error"
	case "info":
		return "info"
	default: // minor, warning
		return "warning"
	}
}

// RoutingKeyLabel is the target shown for a PagerDuty delivery: the last four characters of
// its routing key, enough to tell integrations apart without revealing the key.
func RoutingKeyLabel(routingKey string) string {
	if len(routingKey) < 12 {
		return "routing key …"
	}
	return "routing key …" + routingKey[len(routingKey)-4:]
}

// pagerDutyEvent is an Events API v2 alert event.
type pagerDutyEvent struct {
	RoutingKey  string            `json:"routing_key"`
	EventAction string            `json:"event_action"` // trigger, acknowledge, resolve
	DedupKey    string            `json:"dedup_key,omitempty"`
	Payload     *pagerDutyPayload `json:"payload,omitempty"` // trigger only
	Client      string            `json:"client,omitempty"`
}

type pagerDutyPayload struct {
	Summary       string          `json:"summary"` // at most 1024 characters
	Source        string          `json:"source"`
	Severity      string          `json:"severity"`
	Timestamp     string          `json:"timestamp,omitempty"`
	Component     string          `json:"component,omitempty"`
	Group         string          `json:"group,omitempty"`
	Class         string          `json:"class,omitempty"`
	CustomDetails json.RawMessage `json:"custom_details,omitempty"`
}

// sendPagerDuty sends the incident as an Events API v2 event: an opening triggers an alert
// deduplicated on the incident id, an acknowledgement or resolution acknowledges or resolves
// it. PagerDuty answers 202; 400 means the event is invalid (permanent), 429 a rate limit.
func sendPagerDuty(ctx context.Context, cfg *Config, d *db.NotificationDelivery) outcome {
	if d.Secret == nil || *d.Secret == "" {
		return outcome{Err: errors.New("no routing key"), Permanent: true}
	}
	ev := readIncidentEvent(d.Payload)
	var opts Options
	_ = json.Unmarshal(d.Options, &opts)
	e := pagerDutyEvent{RoutingKey: *d.Secret, DedupKey: ev.Incident.ID, Client: "SecuMon"}
	switch ev.Event {
	case EventAcknowledged:
		e.EventAction = "acknowledge"
	case EventResolved:
		e.EventAction = "resolve"
	default:
		e.EventAction = "trigger"
		severity := opts.Severity
		if severity == "" {
			severity = PagerDutySeverity(ev.Incident.Severity)
		}
		p := &pagerDutyPayload{
			Summary: truncate(d.Subject, 1024), Source: "SecuMon", Severity: severity,
			Group: ev.Policy.Name, Class: ev.Incident.Severity, CustomDetails: ev.Raw,
		}
		if !ev.Time.IsZero() {
			p.Timestamp = ev.Time.UTC().Format("2006-01-02T15:04:05.000Z")
		}
		if ev.Incident.HostID != nil {
			p.Source = "host " + *ev.Incident.HostID
		}
		if ev.Incident.CheckID != nil {
			p.Component = "check " + *ev.Incident.CheckID
		}
		e.Payload = p
	}
	body, err := json.Marshal(e)
	if err != nil {
		return outcome{Err: err, Permanent: true}
	}
	out, _ := post(ctx, cfg, d, cfg.PagerDutyURL+"/v2/enqueue", body, http.Header{"Content-Type": {"application/json"}})
	return out
}
