package notify

import (
	"strings"
	"time"

	"github.com/secuaas/secumon/gen/db"
)

// chatMessage is what the chat channels (Teams, Discord, Telegram) show of a delivery, each
// in its service's format: a title, the facts of the incident it is about, a description and
// a link. It is read from the delivery's subject, text and JSON event, so any Message renders
// (one that is not about an incident has no facts and no link).
type chatMessage struct {
	Title       string    // the delivery's subject
	Description string    // the incident's description, or the delivery's text
	Severity    string    // "" when the delivery is not about an incident
	Status      string    // the incident's status
	Host        string    // the incident's host name, "" if none
	Check       string    // the incident's check name, "" if none
	Time        time.Time // when the event happened (the delivery's creation without one)
	Link        string    // the incident's URL, "" without Config.IncidentLinkBase
}

// chatMessageOf reads the delivery's event: the payload alerting.incidentMessage writes,
// {"event":…,"time":…,"incident":{"severity","status","host_name","check_name",
// "description",…}}.
func chatMessageOf(cfg *Config, d *db.NotificationDelivery) chatMessage {
	ev := readIncidentEvent(d.Payload) // not an incident event: subject and text alone
	m := chatMessage{Title: d.Subject, Description: strings.TrimSpace(d.Body), Time: ev.Time}
	if m.Time.IsZero() {
		m.Time = d.CreatedAt
	}
	if inc := ev.Incident; inc.ID != "" {
		m.Severity, m.Status, m.Host, m.Check = inc.Severity, inc.Status, inc.HostName, inc.CheckName
		m.Description = strings.TrimSpace(inc.Description)
	}
	if cfg.IncidentLinkBase != "" && d.IncidentID != nil {
		m.Link = cfg.IncidentLinkBase + d.IncidentID.String()
	}
	return m
}

// facts are the incident's facts worth showing, in order, as name and value; none for a
// delivery that is not about an incident.
func (m chatMessage) facts() [][2]string {
	var out [][2]string
	for _, f := range [][2]string{{"Severity", m.Severity}, {"Status", m.Status}, {"Host", m.Host}, {"Check", m.Check}} {
		if f[1] != "" {
			out = append(out, f)
		}
	}
	return out
}

// truncate cuts s to at most n characters (runes), ending with "…" when it cut: the services
// refuse a message whose fields are longer than their limits rather than cutting it themselves.
func truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
