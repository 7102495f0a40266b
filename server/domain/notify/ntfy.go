package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/secuaas/secumon/gen/db"
)

// NtfyPriority maps an incident severity to an ntfy priority ("1" min … "5" max), the
// default of a channel without a fixed priority.
func NtfyPriority(incidentSeverity string) string {
	switch incidentSeverity {
	case "critical":
		return "5"
	case "major":
		return "4"
	case "info":
		return "2"
	default: // minor, warning
		return "3"
	}
}

// sendNtfy publishes the message to the topic URL in ntfy's header form: the body is the
// text, the Title, Priority and Tags headers carry the rest, and a token goes as a Bearer
// authorization. ntfy answers 200 with the published message.
func sendNtfy(ctx context.Context, cfg *Config, d *db.NotificationDelivery) outcome {
	ev := readIncidentEvent(d.Payload)
	var opts Options
	_ = json.Unmarshal(d.Options, &opts)
	priority := opts.Severity
	if priority == "" {
		priority = NtfyPriority(ev.Incident.Severity)
	}
	tags := slices.Clone(opts.Tags)
	if ev.Incident.Severity != "" && !slices.Contains(tags, ev.Incident.Severity) {
		tags = append(tags, ev.Incident.Severity)
	}
	text := d.Body
	if text == "" {
		text = d.Subject // ntfy refuses nothing, but an empty body shows as "triggered"
	}
	h := http.Header{"Content-Type": {"text/plain; charset=utf-8"}}
	// Header values cannot hold line breaks: the subject is already one line (Enqueue).
	h.Set("Title", d.Subject)
	h.Set("Priority", priority)
	if len(tags) > 0 {
		h.Set("Tags", strings.Join(tags, ","))
	}
	if d.Secret != nil && *d.Secret != "" {
		h.Set("Authorization", "Bearer "+*d.Secret)
	}
	out, _ := post(ctx, cfg, d, d.Target, []byte(text), h)
	return out
}
