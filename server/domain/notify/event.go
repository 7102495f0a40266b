package notify

import (
	"encoding/json"
	"time"
)

// incidentEvent is what the paging and chat channels (PagerDuty, Opsgenie, ntfy, Teams, Discord,
// Telegram) read of a delivery's
// payload: the incident event the alert policies send (alerting.incidentMessage), which is
// also the body of a plain webhook.
type incidentEvent struct {
	Event  string    `json:"event"` // incident.opened, incident.reopened, incident.acknowledged, incident.resolved
	Time   time.Time `json:"time"`
	Note   string    `json:"note"`
	Policy struct {
		Name string `json:"name"`
	} `json:"policy"`
	Incident struct {
		ID       string         `json:"id"`
		Title    string         `json:"title"`
		Severity string         `json:"severity"`
		Status   string         `json:"status"`
		Tags     map[string]any `json:"tags"`
		HostID   *string        `json:"host_id"`
		CheckID  *string        `json:"check_id"`
		// Names and description, for the chat channels (chatMessageOf).
		HostName    string `json:"host_name"`
		CheckName   string `json:"check_name"`
		Description string `json:"description"`
	} `json:"incident"`
	// Raw is the whole payload, passed on as details.
	Raw json.RawMessage `json:"-"`
}

// Events of incidentEvent.Event that the paging channels act on.
const (
	EventOpened       = "incident.opened"
	EventReopened     = "incident.reopened"
	EventAcknowledged = "incident.acknowledged"
	EventResolved     = "incident.resolved"
)

// readIncidentEvent reads a delivery's payload; a payload that is not an incident event
// (a test notification) gives an event with no incident id.
func readIncidentEvent(payload []byte) incidentEvent {
	var e incidentEvent
	_ = json.Unmarshal(payload, &e)
	e.Raw = payload
	return e
}
