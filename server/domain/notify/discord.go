package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/secuaas/secumon/gen/db"
)

// Discord through a channel webhook (Execute Webhook): a short content line and one embed
// carrying the incident, mentions disabled so that no "@everyone" in a title pings a server.
// Discord answers 204 No Content (no ?wait=true), and 429 with Retry-After and a JSON
// retry_after in seconds when rate-limited. The whole URL is the credential.

// Discord's limits, in characters: a longer field makes it refuse the whole message.
const (
	discordContentMax     = 2000
	discordTitleMax       = 256
	discordDescriptionMax = 4096
	discordFieldValueMax  = 1024
)

// discordColors are the embed's side colours (0xRRGGBB) by severity; a resolved incident is
// green whatever its severity, anything else grey.
var discordColors = map[string]int{
	"critical": 0xD32F2F, "major": 0xF57C00, "minor": 0xFBC02D, "warning": 0xFFEB3B, "info": 0x1976D2,
}

const (
	discordResolvedColor = 0x388E3C
	discordDefaultColor  = 0x9E9E9E
)

// sendDiscord posts the delivery as a message with one embed.
func sendDiscord(ctx context.Context, cfg *Config, d *db.NotificationDelivery) outcome {
	body, err := json.Marshal(discordMessage(chatMessageOf(cfg, d)))
	if err != nil {
		return outcome{Err: err, Permanent: true}
	}
	out, answer := post(ctx, cfg, d, d.Target, body, http.Header{"Content-Type": {"application/json"}})
	if out.StatusCode == http.StatusTooManyRequests && out.RetryAfter == 0 {
		out.RetryAfter = retryAfterSeconds(answer)
	}
	return out
}

// discordMessage is the Execute Webhook body.
func discordMessage(m chatMessage) map[string]any {
	color, ok := discordColors[m.Severity]
	switch {
	case m.Status == "resolved":
		color = discordResolvedColor
	case !ok:
		color = discordDefaultColor
	}
	fields := []any{}
	for _, f := range m.facts() {
		fields = append(fields, map[string]any{"name": f[0], "value": truncate(f[1], discordFieldValueMax), "inline": true})
	}
	embed := map[string]any{
		"title":       truncate(m.Title, discordTitleMax),
		"description": truncate(m.Description, discordDescriptionMax),
		"color":       color,
		"fields":      fields,
		"timestamp":   m.Time.UTC().Format(time.RFC3339),
	}
	if m.Link != "" {
		embed["url"] = m.Link
	}
	return map[string]any{
		"content":          truncate(m.Title, discordContentMax),
		"embeds":           []any{embed},
		"allowed_mentions": map[string]any{"parse": []string{}},
	}
}
